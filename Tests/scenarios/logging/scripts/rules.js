set("d", {
    go_ontrigger: function (prop) {
        home.log("one");
        home.log("two", "args", 3, true);
        console.log("console", 1.5);
    },
    go_onchange: function (value, prop) {
        console.log("from onchange");
    }
});
