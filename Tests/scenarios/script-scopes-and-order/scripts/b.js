order.push("b");
set("device/e", {
    y_ontrigger: function (prop) {
        home.log("b sees secret " + typeof secret + ", localA " + typeof localA + ", helper " + typeof helper);
    }
});
