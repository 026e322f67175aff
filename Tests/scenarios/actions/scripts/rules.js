set("hall", {
    motion_ontrigger: function (prop) {
        var lamp = home.getDevice("lamp");
        lamp.set("level", 60);
        lamp.set("power", true);
        home.getDevice("fan").set("power", false);
    }
});
set("lamp", {
    level_onchange: function (value, prop) { home.log("lamp level onchange"); },
    power_onchange: function (value, prop) { home.log("lamp power onchange"); }
});
