// Test helper: every step of an Engine takes at least `ms` more (the thread sleeps: no CPU spent, and the event loop
// still runs between steps, as it does between real steps), so a request stays in flight long enough for a test
// to act while it streams. Returns the undo. Test code only.
import type { Engine } from '../engine';

export function slowSteps(engine: Engine, ms: number): () => void {
  const own = Object.prototype.hasOwnProperty.call(engine, 'step');
  const step = engine.step;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  engine.step = function (this: Engine): void {
    Atomics.wait(sleeper, 0, 0, ms);
    step.call(this);
  };
  return () => {
    if (own) engine.step = step;
    else delete (engine as Partial<Engine>).step;
  };
}
