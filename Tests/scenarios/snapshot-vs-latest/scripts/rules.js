set("ctl", {
    go_ontrigger: function (prop) {
        var lamp = home.getDevice("lamp");
        var level = lamp.get("level");
        home.log("before " + level.value + " " + level.latest);
        lamp.set("level", level.latest + 32);
        home.log("after " + level.value + " " + level.latest);
        var again = home.getDevice("lamp").get("level");
        home.log("again " + again.value + " " + again.latest);
    }
});
set("lamp", {
    level_ontrigger: function (prop) { home.log("lamp trigger"); },
    level_onchange: function (value, prop) { home.log("lamp change"); }
});
