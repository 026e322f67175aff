set("homeserver", {
    onstart: function () {
        home.log("onstart " + home.getDevice("d").name);
        home.setGlobal("started", (home.getGlobal("started") || 0) + 1);
    }
});
set("d", {
    x_ontrigger: function (prop) {
        home.log("trigger started=" + home.getGlobal("started"));
    }
});
