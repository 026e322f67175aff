set("d", {
    a_onchange: function (value, prop) {
        home.log("change a");
        return home.groupProcessing;
    },
    b_onchange: function (value, prop) {
        home.log("change b");
        return home.stopProcessing;
    },
    c_onchange: function (value, prop) {
        home.log("change c");
    },
    e_onchange: function (value, prop) {
        home.log("change e");
        return home.preventUpdate;
    }
});
