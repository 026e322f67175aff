set("sensor", {
    temp_ontrigger: function (prop) {
        home.log("trigger temp " + prop.value);
    }
});
