set('lamp', { level_onchange: function (v) { home.log('level ' + v); } });
