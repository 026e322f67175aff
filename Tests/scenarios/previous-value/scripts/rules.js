set("th", {
    t_ontrigger: function (prop) {
        home.log("trigger value=" + prop.value + " previous=" + prop.previous + " latest=" + prop.latest);
    },
    t_onchange: function (value, prop) {
        home.log("change arg=" + value + " value=" + prop.value + " previous=" + prop.previous + " latest=" + prop.latest);
    },
    s_onchange: function (value, prop) {
        home.log("s arg=" + value + " previous=" + prop.previous);
    },
    w_onchange: function (value, prop) {
        home.log("w arg=" + value + " " + typeof value);
    }
});
