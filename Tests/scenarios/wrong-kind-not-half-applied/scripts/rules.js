set("multi", {
    power_ontrigger: function (prop) { home.log("trigger power"); },
    level_ontrigger: function (prop) { home.log("trigger level"); },
    note_ontrigger: function (prop) { home.log("trigger note"); }
});
