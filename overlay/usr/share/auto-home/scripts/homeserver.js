// homeserver.onstart runs once per script generation, after devices are loaded.
set('homeserver', {
  onstart: function () {
    home.setGlobal('scriptsStartedAt', new Date().getTime());
    home.log('scripts loaded;', home.getDevices().length, 'devices known');
  }
});
