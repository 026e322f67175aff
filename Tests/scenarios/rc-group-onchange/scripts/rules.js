function grp(id, rc) {
    set("group/" + id, {
        onchange: function (device) {
            home.log("group " + id);
            return rc;
        }
    });
}
grp("a1", home.groupProcessing);
grp("a2", undefined);
grp("apar", undefined);
grp("b1", home.stopProcessing);
grp("b2", undefined);
grp("c1", home.preventUpdate);
grp("c2", undefined);
grp("e1", home.continueProcessing);
grp("e2", undefined);
function dev(id) {
    set(id, {
        x_onchange: function (value, prop) { home.log("change " + id + ".x"); },
        y_onchange: function (value, prop) { home.log("change " + id + ".y"); }
    });
}
dev("d1");
dev("d2");
dev("d3");
dev("d4");
