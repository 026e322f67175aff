set('lamp', {
  level_ontrigger: function (p) { home.log('never' }
});
