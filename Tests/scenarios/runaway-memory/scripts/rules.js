set("d", {
    hog_ontrigger: function (prop) {
        var a = [];
        var chunk = new Array(1025).join("x");
        for (var i = 0; i < 100000; i++) {
            a.push(chunk + i);
        }
        home.log("survived " + a.length);
    },
    ok_ontrigger: function (prop) {
        home.log("ok");
    }
});
