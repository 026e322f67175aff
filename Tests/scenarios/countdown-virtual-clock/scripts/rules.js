function fireT() {
    home.log("fired t");
    home.getDevice("lamp").set("level", 99);
}
function fireC() {
    home.log("fired c");
}
set("timer", {
    start_ontrigger: function (prop) {
        home.countdown("t", 2, fireT);
        home.log("started t");
    },
    restart_ontrigger: function (prop) {
        home.countdown("t", 3, fireT);
        home.log("restarted t");
    },
    startc_ontrigger: function (prop) {
        home.countdown("c", 0.5, fireC);
        home.log("started c");
    },
    cancel_ontrigger: function (prop) {
        home.countdown("c", 0, fireC);
        home.log("cancelled c");
    },
    tick_ontrigger: function (prop) {
        home.log("tick");
    }
});
