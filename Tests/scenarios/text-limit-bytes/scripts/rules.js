set("panel", {
    msg_ontrigger: function (prop) {
        home.log("trigger len " + prop.value.length);
    }
});
