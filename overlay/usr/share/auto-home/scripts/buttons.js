// A push button toggles a light. "latest" reads the live value, which may be
// newer than the snapshot this run started with.
// Register "hall-button" (button "press") and "hall-light" (switch "power").
set('hall-button', {
  press_onchange: function (value, prop) {
    var light = home.getDevice('hall-light');
    if (!light) return home.continueProcessing;
    var on = light.get('power').latest;
    light.set('power', !on);
    thread('logSummary', { device: 'hall-light', property: 'power', value: !on });
  }
});
