#!/usr/bin/python3
"""Plots delivered bytes over time per stream, one panel per scenario, migrations marked.

  plot.py RESULTS.json OUT.png
"""
import json, sys

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt


def main(src, dst):
    with open(src) as f:
        results = json.load(f)
    scenarios = results['scenarios']
    fig, axes = plt.subplots(len(scenarios), 1, figsize=(10, 3.2 * len(scenarios)), squeeze=False)
    for ax, sc in zip(axes[:, 0], scenarios):
        t0 = sc['startedAt'] / 1000.0
        for st in sc['streams']:
            tl = st['timeline']
            if not tl:
                continue
            ax.plot([p[0] - t0 for p in tl], [p[1] / 1e6 for p in tl],
                    label='%s -> vm (%s)' % (st['from'], 'survived' if st['survived'] else 'BROKE'))
        for m in sc['migrations']:
            x = m['times']['pausedAt'] / 1000.0 - t0
            ax.axvline(x, color='grey', linestyle='--', linewidth=0.8)
            ax.text(x, ax.get_ylim()[1] * 0.02, ' %s' % m['to'], rotation=90, fontsize=7, color='grey',
                    va='bottom')
        ends = [st['timeline'][-1][0] - t0 for st in sc['streams'] if st['timeline']]
        ends += [m['times']['resumedAt'] / 1000.0 - t0 + 3 for m in sc['migrations']]
        if ends:
            ax.set_xlim(0, max(ends))
        ax.set_title(sc['name'] + ('' if sc['survived'] else '  (connections broke)'), fontsize=10)
        ax.set_xlabel('time (s)')
        ax.set_ylabel('MB delivered to the VM')
        ax.legend(fontsize=7, loc='upper left')
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(dst, dpi=110)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
