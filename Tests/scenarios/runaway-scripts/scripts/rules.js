set("d", {
    loop_ontrigger: function (prop) {
        home.setGlobal("mark", "kept");
        while (true) {
        }
    },
    hog_ontrigger: function (prop) {
        var a = [];
        while (true) {
            a.push(new Array(1000).join("x") + a.length);
        }
    },
    ok_ontrigger: function (prop) {
        home.log("ok " + home.getGlobal("mark"));
    }
});
