import { makeSchedule, scheduleNames } from './schedules';

const opts = { lr: 1, warmupSteps: 2, totalSteps: 11, minLrRatio: 0.1 };

describe('learning-rate schedules', () => {
  it('warms up linearly from lr / warmupSteps', () => {
    for (const name of scheduleNames()) {
      const s = makeSchedule(name, opts);
      expect([s(0), s(1)]).toEqual([0.5, 1]);
    }
  });

  it('cosine: peak after warmup, half-way at the middle of the decay, floor at the end and after', () => {
    const s = makeSchedule('cosine', opts);
    // decay span = 11 - 1 - 2 = 8 steps; step 4 is a quarter: 0.1 + 0.9 * 0.5 * (1 + cos(pi / 4)) = 0.868198
    expect([s(2), s(4), s(6), s(10), s(50)]).toBeAllClose([1, 0.8681981, 0.55, 0.1, 0.1], { atol: 1e-7 });
  });

  it('linear: straight line from peak to floor', () => {
    const s = makeSchedule('linear', opts);
    // step 4: 1 - 0.9 * 0.25 = 0.775
    expect([s(2), s(4), s(6), s(10), s(11)]).toBeAllClose([1, 0.775, 0.55, 0.1, 0.1], { atol: 1e-12 });
    expect(makeSchedule('constant', opts)(9)).toBe(1);
  });

  it('names valid schedules when asked for an unknown one, and checks options', () => {
    expect(() => makeSchedule('cosin', opts)).toThrow('unknown learning-rate schedule "cosin" (valid: constant, cosine, linear)');
    expect(() => makeSchedule('cosine', { ...opts, minLrRatio: 2 })).toThrow(/minLrRatio/);
    expect(() => makeSchedule('cosine', opts)(-1)).toThrow(/step must be an integer >= 0/);
    // no room to decay: the one update after warmup takes the peak (transformers' schedules), not the floor
    expect(makeSchedule('cosine', { ...opts, warmupSteps: 0, totalSteps: 1 })(0)).toBe(1);
    expect([0, 1, 2, 3].map(makeSchedule('cosine', { ...opts, warmupSteps: 3, totalSteps: 4 }))).toEqual([1 / 3, 2 / 3, 1, 1]);
    expect(makeSchedule('linear', { ...opts, warmupSteps: 3, totalSteps: 4 })(3)).toBe(1);
  });

  it('refuses options and steps outside their domain, naming the field', () => {
    expect(() => makeSchedule('cosine', { ...opts, totalSteps: 0 })).toThrow(/totalSteps must be an integer >= 1, got 0/);
    expect(() => makeSchedule('cosine', { ...opts, minLrRatio: -0.1 })).toThrow(/minLrRatio must be in \[0, 1\], got -0.1/);
    expect(() => makeSchedule('cosine', { ...opts, warmupSteps: 1.5 })).toThrow(/warmupSteps must be an integer >= 0, got 1.5/);
    expect(() => makeSchedule('cosine', opts)(2.5)).toThrow(/step must be an integer >= 0, got 2.5/);
    // lr 0 is a valid (if useless) peak: every step is 0
    expect([0, 1, 5].map(makeSchedule('linear', { ...opts, lr: 0 }))).toEqual([0, 0, 0]);
  });
});
