set("a", {
    go_ontrigger: function (prop) {
        home.setGlobal("cfg", { count: 2, list: [1, "two", true], name: "x" });
        home.setGlobal("n", 5);
        home.log("set");
    }
});
set("b", {
    go_ontrigger: function (prop) {
        var c = home.getGlobal("cfg");
        home.log(c.count + " " + c.list.length + " " + c.list[1] + " " + c.list[2] + " " + c.name + " " + home.getGlobal("n"));
        home.setGlobal("n", home.getGlobal("n") + 1);
    }
});
