set("door", {
    bell_ontrigger: function (prop) {
        home.log("trigger bell");
    },
    bell_onchange: function (value, prop) {
        home.log("change bell");
    },
    chime_onchange: function (value, prop) {
        home.log("change chime");
    }
});
set("group/entry", {
    onchange: function (device) {
        home.log("group entry " + device.id);
    }
});
