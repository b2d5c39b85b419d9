// CPU references for the lab, float64 plain loops, written from the contract (kernel-signatures.ts and the ref
// backend's comments), independent of the CUDA code they check. Slow and obvious on purpose.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "lab.h"

namespace lab::ref {

/** out (bt, m, n) = alpha op(a) op(b) + (acc ? out : 0); b shared when !bBatched. Operands are first laid out
 * as op(a) (m, k) and op(b)^T (n, k) so every dot product walks contiguous memory (big shapes stay fast). */
inline void matmul(const Vec& a, const Vec& b, Vec& out, int64_t batch, int64_t m, int64_t n, int64_t k, bool bBatched, bool ta, bool tb,
                   double alpha, bool acc) {
  Vec oa(static_cast<size_t>(m * k)), ob(static_cast<size_t>(n * k));
  for (int64_t t = 0; t < batch; t++) {
    const int64_t ao = t * m * k, bo = bBatched ? t * k * n : 0, oo = t * m * n;
    for (int64_t i = 0; i < m; i++)
      for (int64_t p = 0; p < k; p++) oa[i * k + p] = a[ao + (ta ? p * m + i : i * k + p)];
    for (int64_t j = 0; j < n; j++)
      for (int64_t p = 0; p < k; p++) ob[j * k + p] = b[bo + (tb ? j * k + p : p * n + j)];
    for (int64_t i = 0; i < m; i++) {
      for (int64_t j = 0; j < n; j++) {
        double s = 0;
        for (int64_t p = 0; p < k; p++) s += oa[i * k + p] * ob[j * k + p];
        out[oo + i * n + j] = alpha * s + (acc ? out[oo + i * n + j] : 0.0);
      }
    }
  }
}

inline void rmsnorm(const Vec& x, const Vec& w, Vec& y, Vec& rstd, int64_t n, int64_t c, double eps) {
  for (int64_t r = 0; r < n; r++) {
    double ss = 0;
    for (int64_t j = 0; j < c; j++) ss += x[r * c + j] * x[r * c + j];
    rstd[r] = 1.0 / std::sqrt(ss / double(c) + eps);
    for (int64_t j = 0; j < c; j++) y[r * c + j] = x[r * c + j] * rstd[r] * w[j];
  }
}

inline void rmsnormBackward(const Vec& dy, const Vec& x, const Vec& w, const Vec& rstd, Vec& dx, Vec& dw, int64_t n, int64_t c) {
  for (int64_t r = 0; r < n; r++) {
    double dot = 0;
    for (int64_t j = 0; j < c; j++) dot += dy[r * c + j] * w[j] * x[r * c + j];
    const double rs = rstd[r], kk = rs * rs * rs * dot / double(c);
    for (int64_t j = 0; j < c; j++) {
      dx[r * c + j] = rs * dy[r * c + j] * w[j] - kk * x[r * c + j];
      dw[j] += dy[r * c + j] * x[r * c + j] * rs;
    }
  }
}

inline void rope(const Vec& x, const std::vector<int>& pos, Vec& out, int64_t rows, int64_t h, int64_t d, double theta, bool inverse) {
  const int64_t half = d / 2;
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t i = 0; i < half; i++) {
      const double ang = pos[r] * std::pow(theta, -2.0 * double(i) / double(d));
      const double c = std::cos(ang), s = (inverse ? -1 : 1) * std::sin(ang);
      for (int64_t hh = 0; hh < h; hh++) {
        const int64_t o = (r * h + hh) * d;
        const double x1 = x[o + i], x2 = x[o + i + half];
        out[o + i] = x1 * c - x2 * s;
        out[o + i + half] = x2 * c + x1 * s;
      }
    }
  }
}

struct Attn {
  int b, t, s, h, hkv, d;
  std::vector<int> qOffset, kvStart;
  double scale;
  void range(int bb, int i, int& lo, int& hi) const {
    lo = std::max(0, kvStart[bb]);
    hi = std::min(s - 1, qOffset[bb] + i);
  }
};

inline void attentionForward(const Attn& a, const Vec& q, const Vec& k, const Vec& v, Vec& out, Vec& lse) {
  const int group = a.h / a.hkv;
  std::vector<double> sc(static_cast<size_t>(a.s));
  for (int bb = 0; bb < a.b; bb++)
    for (int i = 0; i < a.t; i++)
      for (int hh = 0; hh < a.h; hh++) {
        int lo, hi;
        a.range(bb, i, lo, hi);
        const int64_t qo = ((int64_t(bb) * a.t + i) * a.h + hh) * a.d, li = (int64_t(bb) * a.h + hh) * a.t + i;
        if (hi < lo) {
          for (int x = 0; x < a.d; x++) out[qo + x] = 0;
          lse[li] = -INFINITY;
          continue;
        }
        double mx = -INFINITY;
        for (int j = lo; j <= hi; j++) {
          const int64_t ko = ((int64_t(bb) * a.s + j) * a.hkv + hh / group) * a.d;
          double dot = 0;
          for (int x = 0; x < a.d; x++) dot += q[qo + x] * k[ko + x];
          sc[j] = dot * a.scale;
          mx = std::max(mx, sc[j]);
        }
        double sum = 0;
        std::vector<double> acc(size_t(a.d), 0.0);
        for (int j = lo; j <= hi; j++) {
          const double p = std::exp(sc[j] - mx);
          sum += p;
          const int64_t vo = ((int64_t(bb) * a.s + j) * a.hkv + hh / group) * a.d;
          for (int x = 0; x < a.d; x++) acc[x] += p * v[vo + x];
        }
        for (int x = 0; x < a.d; x++) out[qo + x] = acc[x] / sum;
        lse[li] = mx + std::log(sum);
      }
}

inline void attentionBackward(const Attn& a, const Vec& q, const Vec& k, const Vec& v, const Vec& out, const Vec& lse, const Vec& dOut,
                              Vec& dq, Vec& dk, Vec& dv) {
  const int group = a.h / a.hkv;
  std::fill(dk.begin(), dk.end(), 0.0);
  std::fill(dv.begin(), dv.end(), 0.0);
  for (int bb = 0; bb < a.b; bb++)
    for (int i = 0; i < a.t; i++)
      for (int hh = 0; hh < a.h; hh++) {
        int lo, hi;
        a.range(bb, i, lo, hi);
        const int64_t qo = ((int64_t(bb) * a.t + i) * a.h + hh) * a.d;
        const double l = lse[(int64_t(bb) * a.h + hh) * a.t + i];
        for (int x = 0; x < a.d; x++) dq[qo + x] = 0;
        if (hi < lo || std::isinf(l)) continue;
        double delta = 0;
        for (int x = 0; x < a.d; x++) delta += dOut[qo + x] * out[qo + x];
        for (int j = lo; j <= hi; j++) {
          const int64_t ko = ((int64_t(bb) * a.s + j) * a.hkv + hh / group) * a.d;
          double dot = 0, dp = 0;
          for (int x = 0; x < a.d; x++) {
            dot += q[qo + x] * k[ko + x];
            dp += dOut[qo + x] * v[ko + x];
          }
          const double p = std::exp(dot * a.scale - l), ds = p * (dp - delta) * a.scale;
          for (int x = 0; x < a.d; x++) {
            dq[qo + x] += ds * k[ko + x];
            dk[ko + x] += ds * q[qo + x];
            dv[ko + x] += p * dOut[qo + x];
          }
        }
      }
}

/** log-sum-exp of row [o, o + v), with the ref's convention for infinite maxima. */
inline double rowLse(const Vec& x, int64_t o, int64_t v, double temperature = 1.0) {
  double mx = -INFINITY;
  for (int64_t j = 0; j < v; j++) mx = std::max(mx, x[o + j] / temperature);
  if (std::isinf(mx)) return mx;
  double s = 0;
  for (int64_t j = 0; j < v; j++) s += std::exp(x[o + j] / temperature - mx);
  return mx + std::log(s);
}

/** The sampling rule of kernel-signatures.ts, with a full sort. */
inline int sampleRow(const Vec& x, int64_t o, int64_t v, double u, double temperature, int64_t topK, double topP) {
  auto argmax = [&]() {
    int64_t best = 0;
    for (int64_t j = 1; j < v; j++)
      if (x[o + j] > x[o + best]) best = j;
    return int(best);
  };
  if (temperature == 0) return argmax();
  const double lse = rowLse(x, o, v, temperature);
  if (!std::isfinite(lse)) return argmax();
  std::vector<double> p(static_cast<size_t>(v));
  for (int64_t j = 0; j < v; j++) p[j] = std::exp(x[o + j] / temperature - lse);
  std::vector<int64_t> order(static_cast<size_t>(v));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  const int64_t k = topK > 0 ? std::min(topK, v) : v;
  double massK = 0;
  for (int64_t r = 0; r < k; r++) massK += p[order[r]];
  std::vector<char> kept(size_t(v), 0);
  double mass = 0;
  for (int64_t r = 0; r < k; r++) {
    kept[order[r]] = 1;
    mass += p[order[r]];
    if (topP < 1 && mass >= topP * massK) break;
  }
  double run = 0;
  int64_t last = -1;
  for (int64_t j = 0; j < v; j++) {
    if (!kept[j]) continue;
    run += p[j];
    last = j;
    if (run > u * mass) return int(j);
  }
  return int(last);
}

}  // namespace lab::ref
