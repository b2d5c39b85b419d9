// Lab cases: GEMM (both engines, f32 and bf16 storage, transposes, batches, alpha / accumulate, real Qwen
// shapes), elementwise, sumRows, copy/fill, embedding, RMSNorm (+ residual), RoPE, SwiGLU, AdamW, reductions.
#include <string>

#include "cases.h"
#include "ref.h"

namespace lab {
namespace {

std::string fmt(const char* f, long long a = 0, long long b = 0, long long c = 0, long long d = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

void matmulCase(Rng& rng, const char* engine, int dt, int odt, int64_t batch, int64_t m, int64_t n, int64_t k, bool bBatched, bool ta,
                bool tb, double alpha, bool acc) {
  const int64_t bb = bBatched ? batch : 1;
  Vec a = randn(rng, batch * m * k, dt), b = randn(rng, bb * k * n, dt), o = randn(rng, batch * m * n, odt);
  Buf da(a.size(), dt), db(b.size(), dt), dout(o.size(), odt);
  da.set(a);
  db.set(b);
  dout.set(o);
  ref::matmul(a, b, o, batch, m, n, k, bBatched, ta, tb, alpha, acc);
  check(lwz_set_option("gemm", engine), "set gemm");
  check(lwz_matmul(da.p, dt, db.p, dt, dout.p, odt, batch, m, n, k, bBatched, ta, tb, float(alpha), acc), "matmul");
  const double atol = 0.05 + 0.01 * std::sqrt(double(k));
  char name[200];
  std::snprintf(name, sizeof name, "matmul[%s] %s->%s %lldx(%lld,%lld,%lld)%s%s%s alpha %g%s", engine, dtName(dt), dtName(odt),
                (long long)batch, (long long)m, (long long)k, (long long)n, bBatched ? "" : " shared-b", ta ? " tA" : "", tb ? " tB" : "",
                alpha, acc ? " +=" : "");
  compare(name, dout.get(), o, atol, 0.02);
}

void matmuls(Rng& rng, bool quick) {
  struct S {
    int64_t batch, m, n, k;
    bool bBatched, ta, tb;
    double alpha;
    bool acc;
  };
  std::vector<S> shapes = {
      {1, 1, 1, 1, true, false, false, 1, false},     {1, 7, 5, 13, true, false, false, 1, false},  {1, 1, 33, 64, true, false, true, 1, false},
      {1, 65, 17, 31, true, true, false, 1, false},   {1, 33, 129, 70, true, true, true, 1, false},
      {3, 9, 6, 11, false, false, false, 0.5, false}, {3, 9, 6, 11, true, false, true, -2, true},   {3, 9, 6, 11, false, true, false, 1, true},
      {1, 200, 300, 1000, true, false, false, 1, true},
  };
  if (!quick) {
    shapes.push_back({1, 256, 4864, 896, true, false, true, 1, false});  // Qwen2.5-0.5B gate/up: x W^T
    shapes.push_back({1, 896, 4864, 256, true, true, false, 1, true});   // their weight gradient dY^T X
    shapes.push_back({1, 8, 151936, 896, true, false, true, 1, false});  // a chunk of lm-head logits
  }
  for (const char* engine : {"own", "cublaslt"}) {
    if (std::string(engine) == "cublaslt" && !cublasLoaded()) {
      std::printf("skip matmul[cublaslt]: %s\n", lwz_describe());
      continue;
    }
    for (const S& s : shapes) {
      for (int dt : {LWZ_F32, LWZ_BF16}) matmulCase(rng, engine, dt, dt, s.batch, s.m, s.n, s.k, s.bBatched, s.ta, s.tb, s.alpha, s.acc);
    }
    matmulCase(rng, engine, LWZ_BF16, LWZ_F32, 2, 70, 50, 90, true, false, true, 1, false);
  }
  check(lwz_set_option("gemm", "auto"), "set gemm");
}

void elementwise(Rng& rng, int dt) {
  const Tol t = tol("elementwise", dt);
  const int64_t n = 3 * 7 * 13, nb = 7 * 13;
  Vec a = randn(rng, n, dt), b = randn(rng, nb, dt), full = randn(rng, n, dt), acc = randn(rng, n, dt);
  Buf da(n, dt), db(nb, dt), dfull(n, dt), dacc(n, dt), dout(n, dt);
  da.set(a);
  db.set(b);
  dfull.set(full);
  dacc.set(acc);
  Vec want(n);
  check(lwz_add(da.p, db.p, dout.p, dt, n, nb), "add");
  for (int64_t i = 0; i < n; i++) want[i] = a[i] + b[i % nb];
  compare(fmt("add broadcast (3,7,13)+(7,13) ") + dtName(dt), dout.get(), want, t.atol, t.rtol);
  check(lwz_mul(da.p, dfull.p, dout.p, dt, n, n), "mul");
  for (int64_t i = 0; i < n; i++) want[i] = a[i] * full[i];
  compare(fmt("mul same size ") + dtName(dt), dout.get(), want, t.atol, t.rtol);
  check(lwz_scale(da.p, dacc.p, dt, n, -0.37f, 1.f), "axpy");
  for (int64_t i = 0; i < n; i++) want[i] = acc[i] + double(-0.37f) * a[i];
  compare(fmt("axpy out += -0.37 a ") + dtName(dt), dacc.get(), want, t.atol, t.rtol);
  check(lwz_scale(da.p, da.p, dt, n, 1.7f, 0.f), "scale in place");
  for (int64_t i = 0; i < n; i++) want[i] = double(1.7f) * a[i];
  compare(fmt("scale in place ") + dtName(dt), da.get(), want, t.atol, t.rtol);
  Buf other(n, dt == LWZ_F32 ? LWZ_BF16 : LWZ_F32), back(n, dt);
  check(lwz_copy(dfull.p, dt, other.p, other.dt, n), "copy cast");
  check(lwz_copy(other.p, other.dt, back.p, dt, n), "copy cast back");
  for (int64_t i = 0; i < n; i++) want[i] = stored(full[i], LWZ_BF16);
  compare(fmt("copy f32<->bf16 round trip ") + dtName(dt), back.get(), want, 0, 0);
  check(lwz_fill(dout.p, dt, n, 2.5), "fill");
  compare(fmt("fill 2.5 ") + dtName(dt), dout.get(), Vec(n, 2.5), 0, 0);
  Buf ids(13, LWZ_I32), idsCopy(13, LWZ_I32);
  check(lwz_fill(ids.p, LWZ_I32, 13, -7), "fill i32");
  check(lwz_copy(ids.p, LWZ_I32, idsCopy.p, LWZ_I32, 13), "copy i32");
  compare("fill -7 and copy, i32", idsCopy.get(), Vec(13, -7), 0, 0);
  Vec rows = randn(rng, 33 * 17, dt), col = randn(rng, 17, LWZ_F32);
  Buf drows(rows.size(), dt), dcol(17, LWZ_F32);
  drows.set(rows);
  dcol.set(col);
  check(lwz_sum_rows(drows.p, dt, dcol.ptr<float>(), 33, 17, 1), "sumRows");
  for (int j = 0; j < 17; j++)
    for (int r = 0; r < 33; r++) col[j] += rows[r * 17 + j];
  const Tol tr = tol("reduce", dt);
  compare(fmt("sumRows (33,17) accumulate ") + dtName(dt), dcol.get(), col, tr.atol, tr.rtol);
}

void embedding(Rng& rng, int dt) {
  const int64_t v = 50, c = 13, n = 9;
  const Vec ids = {0, 49, 7, 7, 3, 49, 7, 12, 1};
  Vec table = randn(rng, v * c, dt), dOut = randn(rng, n * c, dt), dTable = randn(rng, v * c, LWZ_F32);
  Buf dtab(v * c, dt), dids(n, LWZ_I32), dout(n * c, dt), ddo(n * c, dt), ddt(v * c, LWZ_F32);
  dtab.set(table);
  dids.set(ids);
  ddo.set(dOut);
  ddt.set(dTable);
  check(lwz_embedding_forward(dtab.p, dids.ptr<int32_t>(), dout.p, dt, n, c, v), "embedding");
  check(lwz_embedding_backward(ddo.p, dt, dids.ptr<int32_t>(), ddt.ptr<float>(), n, c, v), "embeddingBackward");
  Vec out(n * c);
  for (int64_t r = 0; r < n; r++)
    for (int64_t j = 0; j < c; j++) {
      out[r * c + j] = table[int64_t(ids[r]) * c + j];
      dTable[int64_t(ids[r]) * c + j] += dOut[r * c + j];
    }
  compare(fmt("embedding gather ") + dtName(dt), dout.get(), out, 0, 0);
  const Tol t = tol("elementwise", dt);
  compare(fmt("embedding scatter-add, repeated ids ") + dtName(dt), ddt.get(), dTable, t.atol, t.rtol);
  int flags = 0;
  check(lwz_take_device_errors(&flags), "errors");
  Buf bad(1, LWZ_I32);
  bad.set({50});
  check(lwz_embedding_forward(dtab.p, bad.ptr<int32_t>(), dout.p, dt, 1, c, v), "embedding bad id");
  int after = 0;
  check(lwz_take_device_errors(&after), "errors");
  compare(fmt("embedding id out of range sets the error word ") + dtName(dt), {double(flags), double(after)}, {0, LWZ_ERR_EMBEDDING_ID}, 0, 0);
}

void rmsnorm(Rng& rng, int dt, int64_t n, int64_t c) {
  Vec x = randn(rng, n * c, dt, 2), w = randn(rng, c, dt), dy = randn(rng, n * c, dt), dw = randn(rng, c, LWZ_F32), res = randn(rng, n * c, dt);
  Buf dx_(n * c, dt), dw_(c, dt), dy_(n * c, dt), ddw(c, LWZ_F32), y_(n * c, dt), rstd_(n, LWZ_F32), dxo(n * c, dt), res_(n * c, dt), h_(n * c, dt);
  dx_.set(x);
  dw_.set(w);
  dy_.set(dy);
  ddw.set(dw);
  res_.set(res);
  Vec y(n * c), rstd(n), dxr(n * c);
  check(lwz_rmsnorm_forward(dx_.p, dw_.p, y_.p, rstd_.ptr<float>(), dt, n, c, 1e-6f), "rmsnorm");
  ref::rmsnorm(x, w, y, rstd, n, c, 1e-6);
  const Tol t = tol("norm", dt);
  const std::string shape = fmt(" (%lld, %lld) ", n, c) + dtName(dt);
  compare("rmsnorm y" + shape, y_.get(), y, t.atol, t.rtol);
  compare("rmsnorm rstd" + shape, rstd_.get(), rstd, t.atol, t.rtol);
  check(lwz_rmsnorm_backward(dy_.p, dx_.p, dw_.p, rstd_.ptr<float>(), dxo.p, ddw.ptr<float>(), dt, n, c), "rmsnormBackward");
  ref::rmsnormBackward(dy, x, w, rstd_.get(), dxr, dw, n, c);
  compare("rmsnorm dx" + shape, dxo.get(), dxr, t.atol, t.rtol);
  compare("rmsnorm dw (accumulated)" + shape, ddw.get(), dw, t.atol * std::sqrt(double(n)), t.rtol);
  check(lwz_add_rmsnorm_forward(dx_.p, res_.p, h_.p, dw_.p, y_.p, rstd_.ptr<float>(), dt, n, c, 1e-6f), "addRmsnorm");
  Vec h(n * c);
  for (int64_t i = 0; i < n * c; i++) h[i] = stored(x[i] + res[i], dt);
  ref::rmsnorm(h, w, y, rstd, n, c, 1e-6);
  compare("add+rmsnorm h" + shape, h_.get(), h, t.atol, t.rtol);
  compare("add+rmsnorm y" + shape, y_.get(), y, t.atol, t.rtol);
}

void rope(Rng& rng, int dt) {
  struct S {
    int b, t, h, d;
    std::vector<int> pos;
    double theta;
    const char* tolKey;
  };
  const std::vector<S> cases = {{1, 1, 4, 8, {37}, 10000, "rope"},
                                {2, 5, 3, 16, {0, 1, 2, 3, 4, 100, 101, 102, 103, 104}, 1e6, "rope"},
                                {1, 3, 2, 64, {16381, 16382, 16383}, 10000, "rope"},
                                {2, 64, 14, 64, {}, 1e6, "rope"}};
  for (const S& s0 : cases) {
    S s = s0;
    if (s.pos.empty())
      for (int i = 0; i < s.b * s.t; i++) s.pos.push_back(1000 + i * 37);
    const int64_t n = int64_t(s.b) * s.t * s.h * s.d;
    Vec x = randn(rng, n, dt), out(n), pos(s.pos.begin(), s.pos.end());
    Buf dx_(n, dt), dpos(s.b * s.t, LWZ_I32), dout(n, dt);
    dx_.set(x);
    dpos.set(pos);
    const Tol t = tol(s.tolKey, dt);
    for (int inverse = 0; inverse < 2; inverse++) {
      check(lwz_rope(dx_.p, dpos.ptr<int32_t>(), dout.p, dt, s.b, s.t, s.h, s.d, s.theta, inverse), "rope");
      ref::rope(x, s.pos, out, int64_t(s.b) * s.t, s.h, s.d, s.theta, inverse);
      compare(fmt("rope (%lld,%lld,%lld,%lld)", s.b, s.t, s.h, s.d) + (inverse ? " inverse " : " ") + dtName(dt), dout.get(), out, t.atol,
              t.rtol);
    }
    check(lwz_rope(dx_.p, dpos.ptr<int32_t>(), dx_.p, dt, s.b, s.t, s.h, s.d, s.theta, 0), "rope in place");
    ref::rope(x, s.pos, out, int64_t(s.b) * s.t, s.h, s.d, s.theta, false);
    compare(fmt("rope in place (%lld,%lld,%lld,%lld) ", s.b, s.t, s.h, s.d) + dtName(dt), dx_.get(), out, t.atol, t.rtol);
  }
}

void swiglu(Rng& rng, int dt) {
  for (int64_t n : {int64_t(1), int64_t(7 * 37), int64_t(4096 * 64)}) {
    Vec g = randn(rng, n, dt, 3), u = randn(rng, n, dt), d = randn(rng, n, dt), out(n), dg(n), du(n);
    Buf g_(n, dt), u_(n, dt), d_(n, dt), o_(n, dt), dg_(n, dt), du_(n, dt);
    g_.set(g);
    u_.set(u);
    d_.set(d);
    check(lwz_swiglu_forward(g_.p, u_.p, o_.p, dt, n), "swiglu");
    check(lwz_swiglu_backward(d_.p, g_.p, u_.p, dg_.p, du_.p, dt, n), "swigluBackward");
    for (int64_t i = 0; i < n; i++) {
      const double sg = 1 / (1 + std::exp(-g[i]));
      out[i] = g[i] * sg * u[i];
      dg[i] = d[i] * u[i] * sg * (1 + g[i] * (1 - sg));
      du[i] = d[i] * g[i] * sg;
    }
    const Tol t = tol("exp", dt);
    compare(fmt("swiglu forward n %lld ", n) + dtName(dt), o_.get(), out, t.atol, t.rtol);
    compare(fmt("swiglu dGate n %lld ", n) + dtName(dt), dg_.get(), dg, t.atol, t.rtol);
    compare(fmt("swiglu dUp n %lld ", n) + dtName(dt), du_.get(), du, t.atol, t.rtol);
  }
}

void adamwAndReductions(Rng& rng) {
  for (int gdt : {LWZ_F32, LWZ_BF16}) {
    const int64_t n = gdt == LWZ_F32 ? 1031 : 1 << 20;
    Vec p = randn(rng, n, LWZ_F32), m = randn(rng, n, LWZ_F32, 0.01), v(n);
    for (auto& x : v) x = double(float(rng.uniform() * 1e-3));
    Buf p_(n, LWZ_F32), m_(n, LWZ_F32), v_(n, LWZ_F32), g_(n, gdt);
    p_.set(p);
    m_.set(m);
    v_.set(v);
    for (int step = 1; step <= 3; step++) {
      Vec g = randn(rng, n, gdt);
      g_.set(g);
      check(lwz_adamw(p_.ptr<float>(), g_.p, gdt, m_.ptr<float>(), v_.ptr<float>(), n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, step), "adamw");
      const double c1 = 1 - std::pow(double(0.9f), step), c2 = 1 - std::pow(double(0.999f), step);
      for (int64_t i = 0; i < n; i++) {
        m[i] = double(0.9f) * m[i] + (1 - double(0.9f)) * g[i];
        v[i] = double(0.999f) * v[i] + (1 - double(0.999f)) * g[i] * g[i];
        p[i] = p[i] - double(1e-2f) * (m[i] / c1 / (std::sqrt(v[i] / c2) + double(1e-8f)) + double(0.1f) * p[i]);
      }
    }
    const Tol t = tol("adamw", LWZ_F32);
    compare(fmt("adamw 3 steps, n %lld, grad ", n) + dtName(gdt) + " param", p_.get(), p, t.atol, t.rtol);
    compare(fmt("adamw 3 steps, n %lld, grad ", n) + dtName(gdt) + " m", m_.get(), m, t.atol, t.rtol);
    compare(fmt("adamw 3 steps, n %lld, grad ", n) + dtName(gdt) + " v", v_.get(), v, t.atol, t.rtol);
  }
  for (int dt : {LWZ_F32, LWZ_BF16}) {
    const int64_t n = 3000001;
    Vec x = randn(rng, n, dt);
    Buf x_(n, dt);
    x_.set(x);
    double ss = 0, want = 0;
    for (double e : x) want += e * e;
    check(lwz_sum_squares(x_.p, dt, n, &ss), "sumSquares");
    compare(fmt("sumSquares n %lld (f64 accumulation) ", n) + dtName(dt), {ss}, {want}, 0, 1e-9);
    x[5] = NAN;
    x[77] = INFINITY;
    x[n - 1] = -INFINITY;
    x_.set(x);
    int64_t count = 0;
    check(lwz_count_nonfinite(x_.p, dt, n, &count), "countNonFinite");
    compare(fmt("countNonFinite finds NaN, +Inf, -Inf ") + dtName(dt), {double(count)}, {3}, 0, 0);
  }
}

}  // namespace

void runLinearCases(Rng& rng, bool quick) {
  matmuls(rng, quick);
  for (int dt : {LWZ_F32, LWZ_BF16}) {
    elementwise(rng, dt);
    embedding(rng, dt);
    for (auto [n, c] : {std::pair<int64_t, int64_t>{1, 7}, {5, 64}, {9, 33}, {4096, 896}}) rmsnorm(rng, dt, n, c);
    rope(rng, dt);
    swiglu(rng, dt);
  }
  adamwAndReductions(rng);
}

}  // namespace lab
