var order = ["common"];
var shared = "from-common";
function helper(x) {
    return "helper:" + x;
}
