set("ctl", {
    go_ontrigger: function (prop) {
        var s = home.getDevice("sensor");
        try {
            s.set("temp", 30);
            home.log("RO set did not throw");
        } catch (e) {
            home.log("RO set threw");
        }
        s.set("target", 25);
        home.log("RW set ok");
        s.set("cmd", "reboot");
        home.log("WO set ok");
    },
    raw_ontrigger: function (prop) {
        home.getDevice("sensor").set("temp", 1);
    }
});
