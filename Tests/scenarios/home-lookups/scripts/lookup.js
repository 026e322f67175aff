function ids(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) {
        out.push(typeof list[i] === "string" ? list[i] : list[i].id);
    }
    return out.sort().join(",");
}
set("probe", {
    go_ontrigger: function (prop) {
        home.log("getDevice " + home.getDevice("k1").name);
        home.log("getDeviceById " + home.getDeviceById("k2").name);
        home.log("getDeviceByName " + home.getDeviceByName("Bedroom Light").id);
        home.log("unknown " + (home.getDevice("nope") === null) + " " + (home.getDeviceByName("Nope") === null) + " " + (home.getGroup("nope") === null));
        home.log("getDevices " + ids(home.getDevices()));
        home.log("startName " + ids(home.getDevicesStartName("Kitchen")));
        home.log("inGroup house " + ids(home.getDevicesInGroup("house")));
        home.log("inGroup kitchen " + ids(home.getDevicesInGroup("kitchen")));
        home.log("isInGroup " + home.isInGroup("k1", "kitchen") + " " + home.isInGroup("b1", "kitchen"));
        var g = home.getGroup("kitchen");
        home.log("getGroup " + g.id + " " + g.name + " " + ids(g.devices()) + " " + ids(home.getGroup("house").groups()));
        home.log("codes " + home.continueProcessing + home.groupProcessing + home.stopProcessing + home.preventUpdate);
        var k = home.getDevice("k1");
        home.log("device " + k.id + " " + k.properties.length + " " + k.properties[0].name + " " + (k.get("nope") === null) + " " + k.get("power").type);
    }
});
