set("group/slow", { onchange: function (device) { home.log("group slow"); } });
set("group/fast", { onchange: function (device) { home.log("group fast"); } });
set("m", { v_onchange: function (value, prop) { home.log("change v"); } });
