function fmt(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) {
        out.push(String(list[i].value));
    }
    return out.join(",");
}
set("probe", {
    go_ontrigger: function (prop) {
        var kwh = home.getDevice("meter").get("kwh");
        var v = home.getDevice("small").get("v");
        home.log("kwh " + fmt(kwh.history(10)));
        home.log("v " + fmt(v.history(10)));
        home.log("kwh2 " + fmt(kwh.history(2)));
        home.log("time " + typeof kwh.history(1)[0].time);
    }
});
