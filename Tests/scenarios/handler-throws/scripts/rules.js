set("d", {
    a_ontrigger: function (prop) {
        home.log("trigger a");
        throw new Error("boom in trigger");
    },
    a_onchange: function (value, prop) {
        home.log("change a");
    },
    b_onchange: function (value, prop) {
        home.log("change b");
        missingFunction();
    }
});
set("group/g", {
    onchange: function (device) {
        home.log("group g");
    }
});
