set("d", {
    g_ontrigger: function (prop) {
        home.log("trigger g");
        return home.groupProcessing;
    },
    s_ontrigger: function (prop) {
        home.log("trigger s");
        return home.stopProcessing;
    },
    p_ontrigger: function (prop) {
        home.log("trigger p");
        return home.preventUpdate;
    },
    n_ontrigger: function (prop) {
        home.log("trigger n");
    },
    z_ontrigger: function (prop) {
        home.log("trigger z");
        return 0;
    },
    g_onchange: function (value, prop) { home.log("change g"); },
    s_onchange: function (value, prop) { home.log("change s"); },
    p_onchange: function (value, prop) { home.log("change p"); },
    n_onchange: function (value, prop) { home.log("change n"); },
    m_onchange: function (value, prop) { home.log("change m"); },
    z_onchange: function (value, prop) { home.log("change z"); }
});
set("group/grp", {
    onchange: function (device) {
        home.log("group grp");
    }
});
