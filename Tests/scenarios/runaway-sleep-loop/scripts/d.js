home.sleep(5);
var loadedToTheEnd = true;
set('d', {
  loop_ontrigger: function () { for (;;) home.sleep(0.05); },
  nap_ontrigger: function () { home.sleep(2); home.log('napped'); },
  ok_ontrigger: function () { home.log(loadedToTheEnd ? 'ok kept' : 'top level cut short'); }
});
