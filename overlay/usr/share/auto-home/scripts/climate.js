// Dials clamp to their min/max. Ignore implausible thermometer jumps with
// preventUpdate. history(n) is newest first and starts with the value the
// property was defined with, so wait for one real reading first.
set('living-thermometer', {
  temperature_ontrigger: function (prop) {
    var recent = prop.history(3);
    if (recent.length > 1 && Math.abs(prop.value - recent[0].value) > 15) {
      home.log('ignoring jump from', recent[0].value, 'to', prop.value);
      return home.preventUpdate;
    }
  }
});
