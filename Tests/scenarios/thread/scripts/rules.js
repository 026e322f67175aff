set("ctl", {
    go_ontrigger: function (prop) {
        home.log("calling");
        thread("work", 21);
    },
    tick_ontrigger: function (prop) {
        home.log("tick " + home.getDevice("lamp").get("level").value);
    }
});
