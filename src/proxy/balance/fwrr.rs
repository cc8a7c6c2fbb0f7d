//! Weighted round robin with HAProxy's exact interleaving ("fast weighted round robin").
//!
//! Behaviour follows HAProxy 2.6's documented `roundrobin` algorithm: each group (active,
//! backup) keeps three ordered queues: servers waiting to be placed ("init", heaviest first),
//! servers placed in the current window ("curr", ordered by their next position), and servers
//! deferred to the next window ("next"). A pick takes the earliest server of the current window
//! (or a fresh one from "init"), advances its next position by `window / weight` (carrying the
//! remainder) and requeues it. Windows switch when the current one is exhausted. Weight and
//! state changes reposition a server the way HAProxy does, so sequences stay identical across
//! down/up events.
//!
//! Queues are small sorted vectors (servers per backend are few); inserting after equal keys
//! keeps first-in-first-out order among equals, as HAProxy's trees do. All storage is allocated
//! once at construction: picking never allocates.

/// Effective weight scale: user weight 1 ⇒ effective weight 16.
pub(crate) const WEIGHT_SCALE: i64 = 16;
const UWEIGHT_RANGE: i64 = 256;
const EWEIGHT_MAX: i64 = UWEIGHT_RANGE * WEIGHT_SCALE;

const T0: u8 = 0;
const CURR: u8 = 2;
const NONE: u8 = 3;

#[derive(Debug, Clone)]
struct SrvLb {
    backup: bool,
    npos: i64,
    lpos: i64,
    rweight: i64,
    /// Which queue the server belongs to (T0/T1/CURR) or NONE when down.
    tree: u8,
    /// Whether it is physically present in `tree` (a server being picked is detached).
    queued: bool,
    key: i64,
    cur_ok: bool,
    cur_eweight: i64,
    next_ok: bool,
    next_eweight: i64,
}

impl SrvLb {
    fn currently_usable(&self) -> bool {
        self.cur_ok && self.cur_eweight > 0
    }
    fn willbe_usable(&self) -> bool {
        self.next_ok && self.next_eweight > 0
    }
}

#[derive(Debug, Clone, Default)]
struct Group {
    /// t0, t1, curr.
    trees: [Vec<(i64, u32)>; 3],
    /// Index (T0 or T1) of the "init" tree; the other one is "next".
    init: u8,
    curr_pos: i64,
    curr_weight: i64,
    next_weight: i64,
}

impl Group {
    fn next(&self) -> u8 {
        1 - self.init
    }
}

/// Round-robin state for one backend. Not thread-safe by itself: balance.rs keeps it behind a
/// mutex held only for the few hundred nanoseconds of a pick.
#[derive(Debug, Clone)]
pub(crate) struct Fwrr {
    srv: Vec<SrvLb>,
    groups: [Group; 2],
    srv_act: u32,
    srv_bck: u32,
    fbck: Option<u32>,
    allbackups: bool,
    scratch: Vec<u32>,
}

impl Fwrr {
    /// `servers`: (backup, usable-state, user weight) in configuration order.
    pub(crate) fn new(servers: &[(bool, bool, u32)], allbackups: bool) -> Self {
        let n = servers.len();
        let srv: Vec<SrvLb> = servers
            .iter()
            .map(|&(backup, ok, w)| {
                let ew = w as i64 * WEIGHT_SCALE;
                SrvLb {
                    backup,
                    npos: 0,
                    lpos: 0,
                    rweight: 0,
                    tree: NONE,
                    queued: false,
                    key: 0,
                    cur_ok: ok,
                    cur_eweight: ew,
                    next_ok: ok,
                    next_eweight: ew,
                }
            })
            .collect();
        let mut g = Group::default();
        for t in g.trees.iter_mut() {
            t.reserve(n);
        }
        let mut me = Fwrr {
            srv,
            groups: [g.clone(), g],
            srv_act: 0,
            srv_bck: 0,
            fbck: None,
            allbackups,
            scratch: Vec::with_capacity(n),
        };
        let (mut wact, mut wbck) = (0i64, 0i64);
        for s in &me.srv {
            if s.willbe_usable() {
                if s.backup {
                    me.srv_bck += 1;
                    wbck += s.next_eweight;
                } else {
                    me.srv_act += 1;
                    wact += s.next_eweight;
                }
            }
        }
        me.recompute_fbck();
        for (gi, w) in [(0usize, wact), (1usize, wbck)] {
            let g = &mut me.groups[gi];
            g.curr_pos = w;
            g.curr_weight = w;
            g.next_weight = w;
            g.init = T0;
        }
        for i in 0..n {
            if me.srv[i].willbe_usable() {
                let g = me.gi(i);
                let init = me.groups[g].init;
                me.queue_by_weight(init, i);
            }
        }
        me
    }

    fn gi(&self, i: usize) -> usize {
        usize::from(self.srv[i].backup)
    }

    fn recompute_fbck(&mut self) {
        self.fbck = if self.allbackups {
            None
        } else {
            self.srv
                .iter()
                .position(|s| s.backup && s.willbe_usable())
                .map(|i| i as u32)
        };
    }

    fn insert(&mut self, tree: u8, i: usize, key: i64) {
        let g = self.gi(i);
        let t = &mut self.groups[g].trees[tree as usize];
        let pos = t.partition_point(|&(k, _)| k <= key);
        t.insert(pos, (key, i as u32));
        let s = &mut self.srv[i];
        s.key = key;
        s.tree = tree;
        s.queued = true;
    }

    fn dequeue(&mut self, i: usize) {
        if !self.srv[i].queued {
            return;
        }
        let g = self.gi(i);
        let tree = self.srv[i].tree as usize;
        if tree < 3 {
            let t = &mut self.groups[g].trees[tree];
            if let Some(p) = t.iter().position(|&(_, s)| s as usize == i) {
                t.remove(p);
            }
        }
        self.srv[i].queued = false;
    }

    fn queue_by_weight(&mut self, tree: u8, i: usize) {
        let key = EWEIGHT_MAX - self.srv[i].next_eweight;
        self.insert(tree, i, key);
    }

    fn queue_srv(&mut self, i: usize) {
        let g = self.gi(i);
        let (cw, nw, next) = {
            let gr = &self.groups[g];
            (gr.curr_weight, gr.next_weight, gr.next())
        };
        let s = &self.srv[i];
        if !s.willbe_usable() {
            self.srv[i].tree = NONE;
        } else if s.next_eweight <= 0 || s.npos >= 2 * cw || s.npos >= cw + nw {
            self.srv[i].npos -= cw;
            self.queue_by_weight(next, i);
        } else {
            let key =
                UWEIGHT_RANGE * s.npos + (EWEIGHT_MAX + s.rweight - s.next_eweight) / WEIGHT_SCALE;
            self.insert(CURR, i, key);
        }
    }

    fn get_srv_init(&mut self, i: usize) {
        self.srv[i].npos = 0;
        self.srv[i].rweight = 0;
    }

    fn get_srv(&mut self, i: usize) {
        let g = self.gi(i);
        let gr = &self.groups[g];
        let tree = self.srv[i].tree;
        if tree == gr.init {
            self.get_srv_init(i);
        } else if tree == gr.next() {
            self.srv[i].npos += gr.curr_weight;
        } else if tree == NONE {
            self.srv[i].npos = gr.curr_pos;
        }
    }

    fn switch_trees(&mut self, g: usize) {
        let gr = &mut self.groups[g];
        gr.init = gr.next();
        gr.curr_weight = gr.next_weight;
        gr.curr_pos = gr.curr_weight;
    }

    fn server_from_group(&mut self, g: usize) -> Option<usize> {
        let gr = &self.groups[g];
        let s1 = gr.trees[CURR as usize].first().map(|&(_, s)| s as usize);
        if let Some(s1) = s1 {
            let s = &self.srv[s1];
            if s.cur_eweight > 0 && s.npos <= gr.curr_pos {
                return Some(s1);
            }
        }
        let s2 = gr.trees[gr.init as usize].first().map(|&(_, s)| s as usize);
        if let Some(s2) = s2 {
            if self.srv[s2].cur_eweight > 0 {
                self.get_srv_init(s2);
                return Some(s2);
            }
        }
        s1
    }

    fn update_position(&mut self, g: usize, i: usize) {
        let (curr_pos, next_weight) = (self.groups[g].curr_pos, self.groups[g].next_weight);
        let s = &mut self.srv[i];
        let ew = s.cur_eweight;
        if ew <= 0 {
            return;
        }
        if s.npos == 0 {
            s.npos = curr_pos;
        }
        s.lpos = s.npos;
        s.npos += next_weight / ew;
        s.rweight += next_weight % ew;
        if s.rweight >= ew {
            s.rweight -= ew;
            s.npos += 1;
        }
    }

    /// Picks the next server. `has_room(i)` says whether server i can take one more connection
    /// (maxconn); `avoid` is a server to skip if possible (redispatch).
    pub(crate) fn next_server(
        &mut self,
        avoid: Option<usize>,
        has_room: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let g = if self.srv_act > 0 {
            0
        } else if let Some(f) = self.fbck {
            return Some(f as usize);
        } else if self.srv_bck > 0 {
            1
        } else {
            return None;
        };
        let mut switched = false;
        let mut avoided: Option<usize> = None;
        let mut full = std::mem::take(&mut self.scratch);
        full.clear();
        let mut chosen: Option<usize> = None;
        'outer: loop {
            if self.groups[g].curr_weight == 0 {
                let nw = self.groups[g].next_weight;
                self.groups[g].curr_pos = nw;
                self.groups[g].curr_weight = nw;
            }
            let srv = loop {
                if let Some(s) = self.server_from_group(g) {
                    break s;
                }
                if switched {
                    if let Some(a) = avoided {
                        chosen = Some(a);
                        self.queue_srv(a);
                    }
                    break 'outer;
                }
                switched = true;
                self.switch_trees(g);
            };
            self.update_position(g, srv);
            self.dequeue(srv);
            self.groups[g].curr_pos += 1;
            if has_room(srv) {
                if Some(srv) != avoid || avoided.is_some() {
                    chosen = Some(srv);
                    self.queue_srv(srv);
                    break;
                }
                avoided = Some(srv);
            }
            full.push(srv as u32);
        }
        // Requeue saturated/avoided servers, most recently extracted first (as HAProxy).
        for &f in full.iter().rev() {
            let f = f as usize;
            if Some(f) == chosen {
                continue;
            }
            if switched {
                let init = self.groups[g].init;
                self.queue_by_weight(init, f);
            } else {
                self.queue_srv(f);
            }
        }
        self.scratch = full;
        chosen
    }

    /// Applies a state/weight change of server `i` (`ok`: running and not in maintenance or
    /// drain; `uweight`: user weight), as HAProxy's status-up/down/weight-update handlers do.
    pub(crate) fn update(&mut self, i: usize, ok: bool, uweight: u32) {
        let next_ew = uweight as i64 * WEIGHT_SCALE;
        {
            let s = &mut self.srv[i];
            s.next_ok = ok;
            s.next_eweight = next_ew;
            if s.next_ok == s.cur_ok && s.next_eweight == s.cur_eweight {
                return;
            }
        }
        let old = self.srv[i].currently_usable();
        let new = self.srv[i].willbe_usable();
        match (old, new) {
            (false, false) => {}
            (false, true) => self.set_up(i),
            (true, false) => self.set_down(i),
            (true, true) => self.reweight(i),
        }
        let s = &mut self.srv[i];
        s.cur_ok = s.next_ok;
        s.cur_eweight = s.next_eweight;
    }

    fn set_down(&mut self, i: usize) {
        let g = self.gi(i);
        self.groups[g].next_weight -= self.srv[i].cur_eweight;
        if self.srv[i].backup {
            self.srv_bck = self.srv_bck.saturating_sub(1);
        } else {
            self.srv_act = self.srv_act.saturating_sub(1);
        }
        self.recompute_fbck();
        self.dequeue(i);
        self.srv[i].tree = NONE;
    }

    fn set_up(&mut self, i: usize) {
        let g = self.gi(i);
        self.groups[g].next_weight += self.srv[i].next_eweight;
        if self.srv[i].backup {
            self.srv_bck += 1;
        } else {
            self.srv_act += 1;
        }
        self.recompute_fbck();
        self.get_srv(i);
        let gr = &self.groups[g];
        let npos = gr.curr_pos
            + (gr.next_weight + gr.curr_weight - gr.curr_pos) / self.srv[i].next_eweight;
        self.srv[i].npos = npos;
        self.queue_srv(i);
    }

    fn reweight(&mut self, i: usize) {
        let g = self.gi(i);
        let (cur_ew, next_ew) = (self.srv[i].cur_eweight, self.srv[i].next_eweight);
        self.groups[g].next_weight += next_ew - cur_ew;
        let tree = self.srv[i].tree;
        if tree == self.groups[g].init {
            self.dequeue(i);
            let init = self.groups[g].init;
            self.queue_by_weight(init, i);
        } else if tree == NONE {
            self.dequeue(i);
            self.get_srv(i);
            let gr = &self.groups[g];
            self.srv[i].npos =
                gr.curr_pos + (gr.next_weight + gr.curr_weight - gr.curr_pos) / next_ew;
            self.queue_srv(i);
        } else {
            self.get_srv(i);
            let gr = &self.groups[g];
            let (curr_pos, curr_weight, next_weight) =
                (gr.curr_pos, gr.curr_weight, gr.next_weight);
            let s = &mut self.srv[i];
            if next_ew > 0 {
                let prev_next = s.npos;
                let step = next_weight / next_ew;
                s.npos = s.lpos + step;
                s.rweight = 0;
                if s.npos > prev_next {
                    s.npos = prev_next;
                }
                if s.npos < curr_pos + 2 {
                    s.npos = curr_pos + step;
                }
            } else {
                s.npos = curr_pos + curr_weight;
            }
            self.dequeue(i);
            self.queue_srv(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(f: &mut Fwrr, n: usize) -> String {
        (0..n)
            .map(|_| match f.next_server(None, &|_| true) {
                Some(i) => (b'a' + i as u8) as char,
                None => '-',
            })
            .collect()
    }

    #[test]
    fn equal_weights_alternate() {
        let mut f = Fwrr::new(&[(false, true, 1), (false, true, 1)], false);
        assert_eq!(seq(&mut f, 6), "ababab");
    }

    #[test]
    fn three_equal() {
        let mut f = Fwrr::new(
            &[(false, true, 1), (false, true, 1), (false, true, 1)],
            false,
        );
        assert_eq!(seq(&mut f, 9), "abcabcabc");
    }

    #[test]
    fn weighted_counts_are_proportional() {
        let mut f = Fwrr::new(
            &[(false, true, 3), (false, true, 2), (false, true, 1)],
            false,
        );
        let s = seq(&mut f, 600);
        assert_eq!(s.matches('a').count(), 300);
        assert_eq!(s.matches('b').count(), 200);
        assert_eq!(s.matches('c').count(), 100);
    }

    #[test]
    fn down_server_is_skipped_and_backup_used() {
        let mut f = Fwrr::new(
            &[(false, true, 1), (false, true, 1), (true, true, 1)],
            false,
        );
        f.update(0, false, 1);
        assert_eq!(seq(&mut f, 4), "bbbb");
        f.update(1, false, 1);
        assert_eq!(seq(&mut f, 3), "ccc");
        f.update(0, true, 1);
        f.update(1, true, 1);
        let s = seq(&mut f, 10);
        assert_eq!(s.matches('a').count(), 5, "{s}");
        assert_eq!(s.matches('b').count(), 5, "{s}");
    }
}
