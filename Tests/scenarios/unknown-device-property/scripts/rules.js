set("lamp", { power_ontrigger: function (p) { home.log("trigger power"); } });
