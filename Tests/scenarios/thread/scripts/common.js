function work(v) {
    home.log("thread got " + v);
    home.getDevice("lamp").set("level", v * 2);
}
