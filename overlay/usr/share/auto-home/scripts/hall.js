// Motion in the hall turns the hall light on, and a countdown turns it off
// LIGHT_TIMEOUT_SECONDS after the last motion (each motion restarts it).
// Register devices "hall-motion" (switch "motion", mode RO) and "hall-light"
// (switch "power") to see it work.
set('hall-motion', {
  // Step 1: runs for every reported value, changed or not.
  motion_ontrigger: function (prop) {
    if (prop.asBool()) {
      home.countdown('hall-light-off', LIGHT_TIMEOUT_SECONDS, function () {
        switchDevice('hall-light', false);
      });
    }
  },
  // Step 3: runs only when the value changed.
  motion_onchange: function (value, prop) {
    if (value) switchDevice('hall-light', true);
    console.log('hall motion', prop.label, '(was', prop.previous + ')');
  }
});
