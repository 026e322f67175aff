set("group/h", {
    onchange: function (device) {
        throw new Error("group h failed");
    }
});
set("e", {
    v_onchange: function (value, prop) { home.log("change v"); }
});
