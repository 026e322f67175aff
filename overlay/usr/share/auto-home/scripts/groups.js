// Group handlers see every change of every device in the group (and in its
// child groups). Config "groups": [{"id": "downstairs", "devices": [...]}].
set('group/downstairs', {
  onchange: function (device) {
    var names = [];
    for (var i = 0; i < device.changes.length; i++) names.push(device.changes[i].name);
    home.log('downstairs:', device.name, 'changed', names.join(', '));
    // Returning home.groupProcessing would skip the parent groups.
  }
});
