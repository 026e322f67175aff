function kinds(p) {
    return [p.isSwitch(), p.isDial(), p.isButton(), p.isText()].join(",");
}
set("h", {
    go_ontrigger: function (prop) {
        var d = home.getDevice("h");
        home.log("percent " + d.get("pct").asPercent() + " " + d.get("rng").asPercent());
        home.log("bool " + d.get("sw").asBool() + " " + d.get("off").asBool());
        home.log("kinds " + kinds(d.get("sw")) + " " + kinds(d.get("pct")) + " " + kinds(d.get("go")) + " " + kinds(d.get("txt")));
        home.log("types " + d.get("sw").type + " " + d.get("pct").type + " " + d.get("go").type + " " + d.get("txt").type);
        home.log("label " + d.get("sw").label + " " + d.get("off").label);
        home.log("minmax " + d.get("rng").min + " " + d.get("rng").max);
        home.log("valueOf " + (d.get("pct") * 2));
        home.log("toString " + String(d.get("txt")));
        home.log("name " + d.get("pct").name + " " + d.id + " " + d.name);
    }
});
