function names(list) {
    var out = [];
    for (var i = 0; i < list.length; i++) {
        out.push(typeof list[i] === "string" ? list[i] : list[i].name);
    }
    return out.join(",");
}
function logger(msg) {
    return function () { home.log(msg); };
}
set("d", {
    a_ontrigger: logger("trigger a"),
    b_ontrigger: logger("trigger b"),
    c_ontrigger: logger("trigger c"),
    sw_ontrigger: logger("trigger sw"),
    a_onchange: logger("change a"),
    b_onchange: logger("change b"),
    c_onchange: logger("change c"),
    sw_onchange: logger("change sw")
});
set("group/g", {
    onchange: function (device) {
        home.log("group g dev " + device.id + " changes " + names(device.changes));
    }
});
