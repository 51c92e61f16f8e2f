// One read at a time however fast the events come: `call()` runs `fn` at once, then at most once
// every `ms` (a call in between is kept and made when the time is up); `cancel()` drops what waits.

export function throttled(fn, ms) {
  let timer = null, again = false;
  const tick = () => { timer = null; if (again) call(); };
  function call() {
    if (timer) { again = true; return; }
    again = false;
    timer = setTimeout(tick, typeof ms === "function" ? ms() : ms);
    fn();
  }
  call.cancel = () => { clearTimeout(timer); timer = null; again = false; };
  return call;
}
