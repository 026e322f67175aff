function logger(msg) {
    return function () { home.log(msg); };
}
set("d", {
    a_ontrigger: logger("trigger a"),
    b_ontrigger: logger("trigger b"),
    a_onchange: logger("change a"),
    b_onchange: logger("change b")
});
var ids = ["top", "zeta", "mid", "alpha", "beta", "other"];
for (var i = 0; i < ids.length; i++) {
    set("group/" + ids[i], { onchange: logger("group " + ids[i]) });
}
