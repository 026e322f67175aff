order.push("a");
var secret = "a-secret";
function localA() {
    return "localA";
}
set("d", {
    x_ontrigger: function (prop) {
        home.log(order.join(","));
        home.log(helper("a") + " " + shared + " " + secret + " " + localA());
    }
});
