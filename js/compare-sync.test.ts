import { describe, expect, it } from "vitest";
import { CompareSync, DRIFT_S, type FrameClock, type SyncPlayer, type SyncState } from "./compare-sync";
import { settle } from "./test/fake-model";

/** A media player without media: time moves only when the test says so. */
class FakePlayer implements SyncPlayer {
  paused = true;
  muted = false;
  seeking = false;
  plays = 0;
  seeks: number[] = [];
  refuse: string | null = null;
  private t = 0;

  constructor(public duration: number) {}

  get currentTime(): number {
    return this.t;
  }

  set currentTime(v: number) {
    this.t = Math.max(0, Math.min(v, this.duration));
    this.seeks.push(this.t);
  }

  get ended(): boolean {
    return this.t >= this.duration;
  }

  play(): Promise<void> {
    this.plays++;
    if (this.refuse) {
      const e = new Error("refused");
      e.name = this.refuse;
      this.refuse = null;
      return Promise.reject(e);
    }
    this.paused = false;
    return Promise.resolve();
  }

  pause(): void {
    this.paused = true;
  }

  /** Plays on by `dt` seconds (at `rate`), stopping at the end as media does. */
  advance(dt: number, rate = 1): void {
    if (this.paused || this.seeking) return;
    this.t = Math.min(this.duration, this.t + dt * rate);
    if (this.t >= this.duration) this.paused = true;
  }
}

class FakeClock implements FrameClock {
  private next = 1;
  readonly pending = new Map<number, () => void>();
  request(cb: () => void): number {
    const id = this.next++;
    this.pending.set(id, cb);
    return id;
  }
  cancel(id: number): void {
    this.pending.delete(id);
  }
  /** Runs the callbacks due for one animation frame. */
  frame(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const cb of due) cb();
  }
}

function setup(durations: number[] = [5, 5, 5]) {
  const clock = new FakeClock();
  const states: SyncState[] = [];
  const sync = new CompareSync(clock, (s) => states.push(s));
  const players = durations.map((d) => new FakePlayer(d));
  players.forEach((p, i) => sync.add(p, i));
  /** Time passes for every player (each at its own rate), then one frame runs. */
  const run = (dt: number, rates: number[] = []) => {
    players.forEach((p, i) => p.advance(dt, rates[i] ?? 1));
    clock.frame();
  };
  const spread = () => {
    const ts = players.map((p) => p.currentTime);
    return Math.max(...ts) - Math.min(...ts);
  };
  return { clock, sync, players, states, run, spread };
}

function readyAll(sync: CompareSync, players: FakePlayer[]): void {
  for (const p of players) sync.ready(p);
}

describe("CompareSync: leader and sound", () => {
  it("chooses the first ready player as leader; only the leader is unmuted", () => {
    const { sync, players } = setup();
    const [a, b, c] = players as [FakePlayer, FakePlayer, FakePlayer];
    expect(players.every((p) => p.muted)).toBe(true);
    expect(sync.leader).toBeNull();
    sync.ready(b);
    expect(sync.leader).toBe(b);
    expect([a.muted, b.muted, c.muted]).toEqual([true, false, true]);
    sync.ready(c); // a later cell does not take over
    expect(sync.leader).toBe(b);
    expect([a.muted, b.muted, c.muted]).toEqual([true, false, true]);
  });

  it("hands the lead (and the sound) to the first cell once it is ready, aligned to the current time", () => {
    const { sync, players, run } = setup();
    const [a, b] = players as [FakePlayer, FakePlayer];
    sync.ready(b);
    sync.play();
    run(1.5);
    sync.ready(a);
    expect(a.currentTime).toBeCloseTo(1.5);
    expect(a.paused).toBe(false);
    expect(sync.leader).toBe(a);
    expect([a.muted, b.muted]).toEqual([false, true]);
  });

  it("a player that loses its source gives the lead to the next ready one", () => {
    const { sync, players } = setup();
    const [a, b, c] = players as [FakePlayer, FakePlayer, FakePlayer];
    readyAll(sync, players);
    sync.unready(a);
    expect(sync.leader).toBe(b);
    expect([a.muted, b.muted, c.muted]).toEqual([true, false, true]);
    sync.remove(b);
    expect(sync.leader).toBe(c);
    expect(c.muted).toBe(false);
  });
});

describe("CompareSync: play, pause, seek", () => {
  it("play and pause reach every ready player", () => {
    const { sync, players } = setup();
    readyAll(sync, players);
    sync.play();
    expect(players.every((p) => !p.paused)).toBe(true);
    expect(sync.playing).toBe(true);
    sync.pause();
    expect(players.every((p) => p.paused)).toBe(true);
    expect(sync.playing).toBe(false);
    sync.toggle();
    expect(players.every((p) => !p.paused)).toBe(true);
  });

  it("a player that becomes ready while playing joins at the leader's time and plays", () => {
    const { sync, players, run } = setup();
    const [a, b] = players as [FakePlayer, FakePlayer];
    sync.ready(a);
    sync.play();
    run(2);
    sync.ready(b);
    expect(b.currentTime).toBeCloseTo(2);
    expect(b.paused).toBe(false);
  });

  it("seek moves every player, clamped to the shortest video", () => {
    const { sync, players, spread } = setup([5, 10, 8]);
    readyAll(sync, players);
    expect(sync.end).toBe(5);
    sync.seek(3.25);
    expect(players.map((p) => p.currentTime)).toEqual([3.25, 3.25, 3.25]);
    sync.seek(9);
    expect(players.map((p) => p.currentTime)).toEqual([5, 5, 5]);
    sync.seek(-1);
    expect(spread()).toBe(0);
    expect(sync.time).toBe(0);
  });

  it("seek while playing keeps playing, all within 0.25 s afterwards", () => {
    const { sync, players, run, spread } = setup();
    readyAll(sync, players);
    sync.play();
    run(0.5, [1, 1.1, 0.9]);
    sync.seek(2);
    expect(sync.playing).toBe(true);
    for (let i = 0; i < 30; i++) {
      run(1 / 60, [1, 1.2, 0.8]);
      expect(spread()).toBeLessThanOrEqual(0.25);
    }
    expect(players.every((p) => !p.paused)).toBe(true);
  });

  it("pause lines up every follower exactly on the leader's frame", () => {
    const { sync, players, run } = setup();
    readyAll(sync, players);
    sync.play();
    run(1, [1, 1.05, 0.96]);
    sync.pause();
    const t = players[0]!.currentTime;
    expect(players.map((p) => p.currentTime)).toEqual([t, t, t]);
  });

  it("play at the end starts over", () => {
    const { sync, players } = setup();
    readyAll(sync, players);
    sync.seek(5);
    sync.play();
    expect(players.map((p) => p.currentTime)).toEqual([0, 0, 0]);
  });
});

describe("CompareSync: drift", () => {
  it("re-aligns a follower more than 0.1 s from the leader", () => {
    const { sync, players, clock } = setup();
    const [a, b, c] = players as [FakePlayer, FakePlayer, FakePlayer];
    readyAll(sync, players);
    sync.play();
    a.advance(1);
    b.advance(1 + DRIFT_S + 0.05); // ahead
    c.advance(1 - DRIFT_S - 0.05); // behind
    clock.frame();
    expect(b.currentTime).toBe(a.currentTime);
    expect(c.currentTime).toBe(a.currentTime);
  });

  it("leaves a follower within 0.1 s alone (no needless seeks)", () => {
    const { sync, players, clock } = setup();
    const [a, b] = players as [FakePlayer, FakePlayer];
    readyAll(sync, players);
    sync.play();
    const seeksBefore = b.seeks.length;
    a.advance(1);
    b.advance(1.08);
    clock.frame();
    expect(b.currentTime).toBeCloseTo(1.08);
    expect(b.seeks.length).toBe(seeksBefore);
  });

  it("does not restart a follower's seek that is still in progress, nor align to a seeking leader", () => {
    const { sync, players, clock } = setup();
    const [a, b] = players as [FakePlayer, FakePlayer];
    readyAll(sync, players);
    sync.play();
    a.advance(2);
    b.seeking = true;
    clock.frame();
    expect(b.currentTime).toBe(0);
    b.seeking = false;
    a.seeking = true;
    clock.frame();
    expect(b.currentTime).toBe(0);
    a.seeking = false;
    clock.frame();
    expect(b.currentTime).toBe(2);
  });

  it("tick() on the leader's timeupdate corrects drift too", () => {
    const { sync, players } = setup();
    const [a, b] = players as [FakePlayer, FakePlayer];
    readyAll(sync, players);
    sync.play();
    a.advance(1);
    b.advance(0.5);
    sync.tick();
    expect(b.currentTime).toBe(1);
  });
});

describe("CompareSync: loop and end", () => {
  it("when the leader loops, followers restart too", () => {
    const { sync, players, run } = setup([5, 5, 6]);
    const [a, b, c] = players as [FakePlayer, FakePlayer, FakePlayer];
    readyAll(sync, players);
    expect(sync.loop).toBe(true);
    sync.play();
    for (let i = 0; i < 4.95 * 60; i++) run(1 / 60);
    run(0.1); // past the end: the 5 s ones ended
    expect([a.currentTime, b.currentTime, c.currentTime]).toEqual([0, 0, 0]);
    expect(players.every((p) => !p.paused)).toBe(true);
    expect(sync.playing).toBe(true);
  });

  it("restarts at the shortest video's end even when the leader is longer", () => {
    const { sync, players, run } = setup([10, 4]);
    readyAll(sync, players);
    sync.play();
    run(4.2);
    expect(players.map((p) => p.currentTime)).toEqual([0, 0]);
  });

  it("without loop, every player pauses at the end of the timeline", () => {
    const { sync, players, run, clock } = setup([5, 7]);
    readyAll(sync, players);
    sync.setLoop(false);
    sync.play();
    run(5.5);
    expect(sync.playing).toBe(false);
    expect(players.every((p) => p.paused)).toBe(true);
    expect(players.map((p) => p.currentTime)).toEqual([5, 5]);
    expect(clock.pending.size).toBe(0);
  });
});

describe("CompareSync: frames and stopping", () => {
  it("runs one frame loop while playing and cancels it on pause", () => {
    const { sync, players, clock } = setup();
    readyAll(sync, players);
    sync.play();
    sync.play();
    expect(clock.pending.size).toBe(1);
    clock.frame();
    expect(clock.pending.size).toBe(1);
    sync.pause();
    expect(clock.pending.size).toBe(0);
    expect(sync.running).toBe(false);
  });

  it("stop() cancels the loop, pauses every player and ignores later calls", () => {
    const { sync, players, clock, states } = setup();
    readyAll(sync, players);
    sync.play();
    sync.stop();
    expect(clock.pending.size).toBe(0);
    expect(players.every((p) => p.paused)).toBe(true);
    const n = states.length;
    sync.play();
    sync.seek(2);
    sync.tick();
    expect(clock.pending.size).toBe(0);
    expect(players.every((p) => p.paused && p.currentTime === 0)).toBe(true);
    expect(states.length).toBe(n);
  });

  it("reports its state: playing, time, end, ready", () => {
    const { sync, players, states, run } = setup([5, 4]);
    expect(sync.state()).toEqual({ playing: false, loop: true, time: 0, end: null, ready: false });
    readyAll(sync, players);
    sync.play();
    run(1);
    expect(states.at(-1)).toMatchObject({ playing: true, end: 4, ready: true });
    expect(states.at(-1)!.time).toBeCloseTo(1);
  });

  it("a leader refused sound by autoplay rules plays muted instead", async () => {
    const { sync, players } = setup();
    const [a] = players as [FakePlayer];
    readyAll(sync, players);
    a.refuse = "NotAllowedError";
    sync.play();
    await settle();
    expect(a.muted).toBe(true);
    expect(a.paused).toBe(false);
    expect(a.plays).toBe(2);
  });
});
