// qmath/calibration/entropy.hpp - entropy (KL-divergence) calibration: TensorRT-style, pytorch-quantization and
// MXNet/TVM compatible searches over a histogram.
//
// Notation: histogram counts b[0..n), total T; L quantized levels; a candidate i keeps bins [0, i).
//
// EntropyMode::kTensorRT (default; TensorRT's EntropyCalibration2 semantics as far as they are public)
//   - absolute histogram (2048 bins), L = 128 (256 for unsigned tensors), candidates i = L, L + stride, ..., n;
//   - P: P[j] = b[j] for j < i - 1, P[i-1] = b[i-1] + sum_{k >= i} b[k] (outliers folded into the last kept bin);
//   - Q: bin j < i belongs to level floor(j * L / i); a level's mass M (sum of its b[j]) is spread evenly over its
//        non-empty bins, empty bins stay 0: Q[j] = b[j] > 0 ? M / (number of non-empty bins of the level) : 0;
//   - KL(P || Q) = sum_{P[j] > 0} p[j] log(p[j] / q[j]) with p = P / T, q = Q / sum(Q), natural log, in double;
//        +inf when some P[j] > 0 has Q[j] = 0 (b[i-1] = 0 with outliers), or when Q is all zero;
//   - the first (smallest) i with the least KL wins; threshold amax = (i + 0.5) * width (TensorRT caches show
//        entropy/minmax amax ratios of exactly 2048.5 / 2048).
//   The search evaluates every candidate in O(L) with prefix sums of b, of the non-empty count and of b log b:
//     T * KL = sum_{j<i} P log P - T log T + T log S_i - sum_levels M log(M / c) - O_i log(M_last / c_last),
//   algebraically equal to the direct sum (entropy_divergence, the normative definition) and checked against it
//   in tests within a relative 1e-9 (they differ by double rounding and by fast_log, a table-driven log within a
//   few ulp of std::log; one log function throughout, so exact ties such as KL = 0 stay exact). Level terms are
//   memoised per (first bin, width): about 37k logarithms for 2048 bins instead of 246k. Memory is O(bins) (two
//   width-tagged memo rows, detail::KlPrefixSearch; about 48 bytes per bin), time O((bins - L) * L).
//   (A near-tie closer than that tolerance may resolve differently from the direct definition.)
//
// EntropyMode::kPyTorchQuantization: NVIDIA pytorch-quantization's _compute_amax_entropy, reproduced operation by
// operation so that the chosen bin (and so the float32 amax = edges[i]) is the same:
//   - works on a copy with bins[0] = bins[1] (the caller's histogram is never modified);
//   - L = 128 (256 unsigned), candidates i = start_bin (128), ..., n with stride 1;
//   - level of bin j = floor(j * L / i) (numpy.digitize over linspace(0, i, L + 1), which is exact here);
//   - Q as above from the modified bins; P as above; both normalised as scipy.stats.entropy does (p = P / sum P,
//     q = Q / sum Q, rel_entr, numpy's pairwise summation in float64);
//   - the LAST minimum wins (np.argmin over the reversed list); a NaN divergence counts as the minimum, as in numpy;
//   - amax = edges[i] = i * width: the left edge of bin i, not the centre.
//   Caveat: numpy's reductions are reproduced assuming its default (unbuffered, contiguous) pairwise summation.
//   Search (detail::pytorch_search): the O(L) prefix-sum divergence of every candidate with a bound on its error;
//   only the candidates whose interval reaches the smallest upper bound are evaluated the numpy way (over their
//   non-empty bins), so the index is the one the direct O(bins^2) loop (detail::pytorch_search_reference) picks,
//   in about O(bins * L) time and O(bins) memory.
//
// EntropyMode::kMxnet: the KL search of MXNet >= 1.6 (C++ operator _contrib_calibrate_entropy) and TVM
// (FindScaleByKLMinimization, which TVM adapted from it) on a signed histogram with an odd bin count centred on 0
// (8001 bins, kFixed range [-amax, amax]); L = 255:
//   - candidates i = L / 2 (127), ..., z (the zero bin index); slice [z - i, z + i] (2i + 1 bins);
//   - P: the slice, with every bin up to and including its first folded into its first bin, and every bin after it
//     folded into its last;
//   - Q: the slice with its FIRST BIN LEFT EMPTY (both implementations fold that bin into P's first bin only, so it
//     is missing from Q's mass and from its non-empty count), merged into L groups of floor((2i + 1) / L) bins,
//     the remainder going to the last group; each group's sum is divided by the group's non-empty slice bins and
//     given to the bins where P is non-zero;
//   - both smoothed: zero bins get eps (1e-4), non-zero bins lose eps1 = eps * zeros / nonzeros; eps1 >= 1, or a
//     Q with no mass, makes the candidate's divergence +inf;
//   - KL(P || Q) of the normalised, smoothed P and Q; the first minimum wins;
//   - amax = the right edge of bin z + i = (i + 0.5) * width.
//   By default qmath evaluates this in double, in O(L) per candidate (detail::MxnetSearch, tested against the direct
//   detail::mxnet_divergence within 1e-9). MXNet and TVM compute it in float32, in a fixed order, and on large
//   calibration sets the float32 rounding of their sums can move the minimum (on 10^7 Gaussian values with
//   outliers: candidate 1073 in float32, 1097 in exact arithmetic). EntropyOptions::mxnet_float32 repeats their
//   float32 operations in their order (detail::mxnet_divergence_f32: counts converted to float, sequential sums,
//   float logarithms), which reproduces their divergences bit for bit where the platform's logf is the one they
//   ran with (glibc on Linux); it is O(bins) per candidate and takes a few hundred ms for 8001 bins.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#include <qmath/calibration/histogram.hpp>
#include <qmath/calibration/minmax.hpp>
#include <qmath/calibration/mse.hpp>
#include <qmath/error.hpp>

namespace qmath {

enum class EntropyMode { kTensorRT, kPyTorchQuantization, kMxnet };

struct EntropyOptions {
  EntropyMode mode = EntropyMode::kTensorRT;
  bool is_unsigned = false;    // post-ReLU tensor: 256 levels (kTensorRT, kPyTorchQuantization)
  std::int32_t levels = 0;     // 0: the mode's default (128 / 256 unsigned; 255 for kMxnet)
  std::int32_t start_bin = 0;  // 0: the mode's default (L for kTensorRT, 128 for pytorch, L / 2 for kMxnet)
  std::int32_t stride = 1;     // candidate step (kTensorRT, kPyTorchQuantization)
  double eps = 1e-4;           // kMxnet smoothing
  // kMxnet: evaluate the divergences in float32, in MXNet / TVM's order (bit-for-bit reproduction; slow). See above.
  bool mxnet_float32 = false;
  // kTensorRT: search on a copy with bins[0] = bins[1], as pytorch-quantization always does (its mode ignores this
  // flag and always does it). Post-ReLU tensors put half their values in bin 0 (exact zeros); that spike dominates
  // the divergence and drags the plain KL threshold far down (about 2 sigma on a ReLU'd Gaussian instead of ~4.4).
  bool flatten_first_bin = false;
};

namespace detail {

inline std::int64_t entropy_levels(const EntropyOptions& o) {
  if (o.levels > 0) return o.levels;
  if (o.mode == EntropyMode::kMxnet) return 255;
  return o.is_unsigned ? 256 : 128;
}
inline std::int64_t entropy_start(const EntropyOptions& o) {
  if (o.start_bin > 0) return o.start_bin;
  if (o.mode == EntropyMode::kPyTorchQuantization) return 128;
  if (o.mode == EntropyMode::kMxnet) return entropy_levels(o) / 2;
  return entropy_levels(o);
}
inline void check_entropy_options(const EntropyOptions& o, const char* where) {
  require(o.levels >= 0 && o.start_bin >= 0, where, "levels and start_bin must be >= 0");
  // Every candidate costs O(levels): more levels than 16-bit quantization has would make the search quadratic.
  require(o.levels <= 65536, where, "levels must be <= 65536, got ", o.levels);
  require(o.stride >= 1, where, "stride must be >= 1, got ", o.stride);
  require(o.eps > 0.0 && o.eps < 1.0, where, "eps must be in (0, 1), got ", o.eps);
}

inline double xlogx(double x) { return x > 0.0 ? x * std::log(x) : 0.0; }

// numpy's pairwise summation of a contiguous float64 array (npy pairwise_sum, block 128, 8 accumulators), as
// np.sum(a) evaluates it: 0.0 + pairwise(a).
inline double numpy_pairwise(const double* a, std::size_t n) {
  if (n < 8) {
    double r = -0.0;
    for (std::size_t i = 0; i < n; ++i) r += a[i];
    return r;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = a[k];
    std::size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int k = 0; k < 8; ++k) r[k] += a[i + static_cast<std::size_t>(k)];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise(a, n2) + numpy_pairwise(a + n2, n - n2);
}
inline double numpy_sum(const double* a, std::size_t n) { return 0.0 + numpy_pairwise(a, n); }

// scipy.special.rel_entr
inline double rel_entr(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
  if (x > 0.0 && y > 0.0) return x * std::log(x / y);
  if (x == 0.0 && y >= 0.0) return 0.0;
  return std::numeric_limits<double>::infinity();
}

// Natural log for positive normal doubles: x = 2^e * m, m in [1, 2); m / c_j with c_j the centre of m's 1/256
// interval, log(1 + r) for |r| < 1/512 by a 6-term series (truncation < 1e-19). Within a few ulp of std::log, at a
// fraction of its cost; used only where the result feeds a comparison (the MXNet-mode search), never an output.
struct LogTable {
  double c[256], inv[256], logc[256];
  LogTable() {
    for (int j = 0; j < 256; ++j) {
      c[j] = 1.0 + (j + 0.5) / 256.0;
      inv[j] = 1.0 / c[j];
      logc[j] = std::log(c[j]);
    }
  }
};
inline const LogTable& log_table() {
  static const LogTable t;
  return t;
}
inline double fast_log(double x, const LogTable& t) {
  if (!(x >= 2.2250738585072014e-308) || !(x <= 1.7976931348623157e308)) return std::log(x);
  std::uint64_t u;
  std::memcpy(&u, &x, sizeof u);
  const int e = static_cast<int>(u >> 52) - 1023;
  const std::uint64_t mu = (u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  double m;
  std::memcpy(&m, &mu, sizeof m);
  const int j = static_cast<int>((u >> 44) & 0xff);
  const double r = (m - t.c[j]) * t.inv[j];
  const double poly = r - r * r * (0.5 - r * (1.0 / 3.0 - r * (0.25 - r * (0.2 - r * (1.0 / 6.0)))));
  return static_cast<double>(e) * 0.6931471805599453094 + t.logc[j] + poly;
}

// pytorch-quantization: divergence of candidate i on the already modified bins (bins[0] = bins[1]).
inline double pytorch_divergence(const std::vector<std::int64_t>& bins, std::size_t i, std::int64_t L,
                                 std::vector<double>& level_sum, std::vector<std::int64_t>& level_cnt,
                                 std::vector<double>& q, std::vector<double>& terms) {
  const std::size_t n = bins.size();
  level_sum.assign(static_cast<std::size_t>(L), 0.0);
  level_cnt.assign(static_cast<std::size_t>(L), 0);
  for (std::size_t j = 0; j < i; ++j)
    if (bins[j] != 0) {
      const std::size_t l = static_cast<std::size_t>(static_cast<std::int64_t>(j) * L / static_cast<std::int64_t>(i));
      level_sum[l] += static_cast<double>(bins[j]);
      ++level_cnt[l];
    }
  for (std::size_t l = 0; l < level_sum.size(); ++l)
    if (level_cnt[l] != 0) level_sum[l] = level_sum[l] / static_cast<double>(level_cnt[l]);
  q.assign(i, 0.0);
  for (std::size_t j = 0; j < i; ++j)
    if (bins[j] != 0)
      q[j] = level_sum[static_cast<std::size_t>(static_cast<std::int64_t>(j) * L / static_cast<std::int64_t>(i))];
  std::int64_t outliers = 0;
  for (std::size_t k = i; k < n; ++k) outliers += bins[k];
  std::int64_t ref_total = 0;
  for (std::size_t j = 0; j < i; ++j) ref_total += bins[j];
  ref_total += outliers;
  const double sq = numpy_sum(q.data(), i);
  terms.assign(i, 0.0);
  for (std::size_t j = 0; j < i; ++j) {
    const std::int64_t ref = bins[j] + (j + 1 == i ? outliers : 0);
    const double pk = static_cast<double>(ref) / static_cast<double>(ref_total);
    const double qk = q[j] / sq;
    terms[j] = rel_entr(pk, qk);
  }
  return numpy_sum(terms.data(), i);
}

// MXNet / TVM's smoothing of a distribution, in T (double for kMxnet, float for mxnet_float32): zero entries become
// eps, the others lose eps1 = (eps * zeros) / nonzeros. False (the candidate is +inf) when every entry is zero or
// eps1 >= 1. Their float expression x += eps * [x == 0] - eps1 * [x != 0] adds exactly eps to a zero and subtracts
// exactly eps1 from the rest (the products by 0 and 1 and the subtraction of 0 are exact), so this form equals it
// bit for bit. Non-zero entries are >= 1 where it is used (counts, and group sums over non-empty bins): they stay
// positive.
template <class T>
bool mxnet_smooth(std::vector<T>& v, T eps) {
  std::size_t zeros = 0;
  for (T x : v) zeros += x == T(0);
  const std::size_t nonzeros = v.size() - zeros;
  if (nonzeros == 0) return false;
  const T eps1 = eps * static_cast<T>(zeros) / static_cast<T>(nonzeros);
  if (eps1 >= T(1)) return false;
  for (T& x : v) x = x == T(0) ? eps : x - eps1;
  return true;
}

// MXNet/TVM: divergence of candidate i around zero bin z (see the file comment), in double; +inf when smoothing is
// impossible. The normative definition of kMxnet.
inline double mxnet_divergence(const std::uint64_t* counts, std::size_t n, std::size_t z, std::size_t i,
                               std::int64_t L, double eps, std::vector<double>& p, std::vector<double>& q) {
  const std::size_t lo = z - i, hi = z + i + 1, len = hi - lo;
  p.assign(len, 0.0);
  q.assign(len, 0.0);
  for (std::size_t k = 0; k <= lo; ++k) p[0] += static_cast<double>(counts[k]);
  for (std::size_t k = 1; k < len; ++k) p[k] = static_cast<double>(counts[lo + k]);
  for (std::size_t k = hi; k < n; ++k) p[len - 1] += static_cast<double>(counts[k]);
  auto slice = [&](std::size_t k) { return k == 0 ? std::uint64_t(0) : counts[lo + k]; };  // Q's view: bin 0 empty
  const std::size_t m = len / static_cast<std::size_t>(L);
  for (std::int64_t l = 0; l < L; ++l) {
    const std::size_t s = static_cast<std::size_t>(l) * m;
    const std::size_t e = l == L - 1 ? len : s + m;
    std::uint64_t mass = 0, norm = 0;
    for (std::size_t k = s; k < e; ++k) {
      mass += slice(k);
      norm += slice(k) != 0;
    }
    if (norm != 0)
      for (std::size_t k = s; k < e; ++k)
        if (p[k] != 0.0) q[k] = static_cast<double>(mass) / static_cast<double>(norm);
  }
  if (!mxnet_smooth(p, eps) || !mxnet_smooth(q, eps)) return std::numeric_limits<double>::infinity();
  double sp = 0.0, sq = 0.0;
  for (std::size_t k = 0; k < len; ++k) {
    sp += p[k];
    sq += q[k];
  }
  double kl = 0.0;
  for (std::size_t k = 0; k < len; ++k) {
    const double pk = p[k] / sp, qk = q[k] / sq;
    kl += pk * std::log(pk / qk);
  }
  return kl;
}

// The same divergence with MXNet / TVM's float32 arithmetic, operation by operation in their order: P's end bins as
// sequential float sums of the float-converted counts (the first from bin 0 upward; the last starting from the
// slice's last bin), each Q group's count sum converted to float once (the remainder bins' sum added to the last
// group in float), q = group sum / non-empty bins in float, mxnet_smooth in float, sequential float sums for the
// normalisation, and kl += p * logf(p / q) in float. `head` holds the sequential float prefix sums of the converted counts
// (head[k] = ((c[0] + c[1]) + ...) + c[k]), shared by all candidates. Group sums must stay below 2^31 (MXNet / TVM
// accumulate them in int). Requires strict IEEE float evaluation (no FMA contraction, -ffp-contract=off).
inline float mxnet_divergence_f32(const std::uint64_t* counts, const float* head, std::size_t n, std::size_t z,
                                  std::size_t i, std::int64_t L, float eps, std::vector<float>& p,
                                  std::vector<float>& q) {
  const std::size_t lo = z - i, hi = z + i + 1, len = hi - lo;
  p.assign(len, 0.0f);
  q.assign(len, 0.0f);
  p[0] = head[lo];
  for (std::size_t k = 1; k < len; ++k) p[k] = static_cast<float>(counts[lo + k]);
  for (std::size_t k = hi; k < n; ++k) p[len - 1] += static_cast<float>(counts[k]);
  auto slice = [&](std::size_t k) { return k == 0 ? std::uint64_t(0) : counts[lo + k]; };
  const std::size_t m = len / static_cast<std::size_t>(L);
  for (std::int64_t l = 0; l < L; ++l) {
    const std::size_t s = static_cast<std::size_t>(l) * m;
    const std::size_t e = s + m;
    const std::size_t stop = l == L - 1 ? len : e;
    std::uint64_t mass = 0, rest = 0;
    std::int32_t norm = 0;
    for (std::size_t k = s; k < e; ++k) mass += slice(k);
    for (std::size_t k = e; k < stop; ++k) rest += slice(k);
    for (std::size_t k = s; k < stop; ++k) norm += slice(k) != 0;
    float group = static_cast<float>(static_cast<std::int32_t>(mass));
    if (stop != e) group += static_cast<float>(static_cast<std::int32_t>(rest));
    if (norm != 0)
      for (std::size_t k = s; k < stop; ++k)
        if (p[k] != 0.0f) q[k] = group / static_cast<float>(norm);
  }
  if (!mxnet_smooth(p, eps) || !mxnet_smooth(q, eps)) return std::numeric_limits<float>::infinity();
  float sp = 0.0f, sq = 0.0f;
  for (std::size_t k = 0; k < len; ++k) sp += p[k];
  for (std::size_t k = 0; k < len; ++k) sq += q[k];
  float kl = 0.0f;
  for (std::size_t k = 0; k < len; ++k) {
    const float pk = p[k] / sp, qk = q[k] / sq;
    if (pk != 0.0f && qk != 0.0f) kl += pk * std::log(pk / qk);
  }
  return kl;
}

// The MXNet-mode divergence of every candidate in O(L) instead of O(i) (mxnet_divergence is the definition and the
// fallback). With p' = smoothed P, q' = smoothed Q, Sp = sum p' = T (smoothing keeps sums), Sq = sum q' = the sum,
// over the groups with a non-empty slice bin, of (non-zero P bins of the group) * (group sum / non-empty slice bins):
//   KL = (1 / Sp) * sum_k p'_k (log p'_k - log q'_k) + log(Sq / Sp)
// where bins with P = 0 contribute eps (log eps - log eps) = 0; bins with P > 0 in a group without slice mass
// (an end bin holding only outliers, or the first bin, which Q never sees) contribute p' (log p' - log eps); the
// others (P - e) (log (P - e) - log (Q_l - e_q)) with Q_l = group sum / non-empty slice bins and e, e_q the
// smoothing shifts. sum (P - e) log(P - e) over interior bins comes from prefix sums of P log P, log P, 1 and P^-k
// via the series (P - e) log(P - e) = P log P - e log P - e + sum_{k>=2} e^k / (k (k - 1) P^(k-1)), used while
// e <= 0.01 (16 terms: truncation < 1e-34 relative); otherwise the interior is summed directly.
class MxnetSearch {
 public:
  MxnetSearch(const std::uint64_t* counts, std::size_t n, std::int64_t L, double eps)
      : c_(counts), n_(n), L_(L), eps_(eps), B_(n + 1, 0), NZ_(n + 1, 0), PL_(n + 1, 0.0), LP_(n + 1, 0.0) {
    for (int k = 0; k < kTerms; ++k) INV_[k].assign(n + 1, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      const double p = static_cast<double>(counts[j]);
      B_[j + 1] = B_[j] + counts[j];
      NZ_[j + 1] = NZ_[j] + (counts[j] != 0);
      const double lp = counts[j] != 0 ? std::log(p) : 0.0;
      PL_[j + 1] = PL_[j] + p * lp;
      LP_[j + 1] = LP_[j] + lp;
      double inv = counts[j] != 0 ? 1.0 / p : 0.0, pw = inv;
      for (int k = 0; k < kTerms; ++k) {
        INV_[k][j + 1] = INV_[k][j] + pw;
        pw *= inv;
      }
    }
  }

  double divergence(std::size_t z, std::size_t i) {
    const double inf = std::numeric_limits<double>::infinity();
    const LogTable& lt = log_table();
    const std::size_t lo = z - i, hi = z + i + 1, len = hi - lo;
    const std::uint64_t p0 = B_[lo + 1], pend = c_[hi - 1] + (B_[n_] - B_[hi]);  // P's end bins
    const std::uint64_t nz_interior = NZ_[hi - 1] - NZ_[lo + 1];
    const std::size_t nzp = static_cast<std::size_t>(nz_interior) + (p0 != 0) + (pend != 0);
    if (nzp == 0) return inf;
    const double e = eps_ * static_cast<double>(len - nzp) / static_cast<double>(nzp);
    if (!(e < 1.0)) return inf;
    const std::size_t m = len / static_cast<std::size_t>(L_);
    // Per group [s, t): G = slice sum (bin lo excluded), norm = non-empty slice bins, npz = non-zero P bins, psum =
    // P sum (end bins with their outliers).
    auto group = [&](std::int64_t l) {
      const std::size_t s = lo + static_cast<std::size_t>(l) * m;
      const std::size_t t = l == L_ - 1 ? hi : s + m;
      if (t == s) return Group{0, 0, 0, 0};  // fewer slice bins than levels: only the last group has bins
      const std::size_t s_q = s == lo ? lo + 1 : s;  // Q never sees the slice's first bin
      Group g{B_[t] - B_[s_q], NZ_[t] - NZ_[s_q], NZ_[t] - NZ_[s_q], B_[t] - B_[s_q]};
      if (s == lo) {
        g.npz += p0 != 0;
        g.psum += p0;
      }
      if (t == hi) {
        g.npz += (pend != 0) - (c_[hi - 1] != 0);
        g.psum += pend - c_[hi - 1];
      }
      return g;
    };
    // Q's non-zero bins: in a middle group the non-zero P bins are its non-empty slice bins, so only the first and
    // last groups need their own count (with fewer slice bins than levels, only the last group has bins).
    const Group first = group(0);
    const Group last = L_ > 1 ? group(L_ - 1) : Group{0, 0, 0, 0};
    const std::size_t mid_lo = lo + m, mid_hi = lo + static_cast<std::size_t>(L_ - 1) * m;
    std::size_t nzq = static_cast<std::size_t>(mid_hi > mid_lo ? NZ_[mid_hi] - NZ_[mid_lo] : 0);
    nzq += static_cast<std::size_t>((first.norm != 0 ? first.npz : 0) + (last.norm != 0 ? last.npz : 0));
    if (nzq == 0) return inf;
    const double eq = eps_ * static_cast<double>(len - nzq) / static_cast<double>(nzq);
    if (!(eq < 1.0)) return inf;
    const double log_eps = std::log(eps_);
    double plogq = 0.0, Sq = 0.0;
    for (std::int64_t l = 0; l < L_; ++l) {
      const Group g = l == 0 ? first : (l == L_ - 1 ? last : group(l));
      if (g.npz == 0) continue;
      const double weight = static_cast<double>(g.psum) - static_cast<double>(g.npz) * e;  // sum of p' over P > 0
      if (g.norm == 0) {
        plogq += weight * log_eps;
        continue;
      }
      const double Q = static_cast<double>(g.G) / static_cast<double>(g.norm);
      Sq += static_cast<double>(g.npz) * Q;
      plogq += weight * fast_log(Q - eq, lt);
    }
    // sum over non-zero P of (P - e) log(P - e): the two end bins directly, the interior by the series.
    double plogp = xlogx(p0 != 0 ? static_cast<double>(p0) - e : 0.0) +
                   xlogx(pend != 0 ? static_cast<double>(pend) - e : 0.0);
    const std::size_t a = lo + 1, b = hi - 1;
    if (e > 0.01) {
      for (std::size_t j = a; j < b; ++j)
        if (c_[j] != 0) plogp += xlogx(static_cast<double>(c_[j]) - e);
    } else {
      double sum = (PL_[b] - PL_[a]) - e * (LP_[b] - LP_[a]) - e * static_cast<double>(NZ_[b] - NZ_[a]);
      double ek = e;
      for (int k = 2; k < kTerms + 1; ++k) {
        ek *= e;
        sum += ek / static_cast<double>(k * (k - 1)) * (INV_[k - 2][b] - INV_[k - 2][a]);
      }
      plogp += sum;
    }
    const double Sp = static_cast<double>(B_[n_]);
    return (plogp - plogq) / Sp + std::log(Sq / Sp);
  }

 private:
  struct Group {
    std::uint64_t G, norm, npz, psum;  // slice sum (Q's view), non-empty slice bins, non-zero P bins, P sum
  };
  static constexpr int kTerms = 16;
  const std::uint64_t* c_;
  std::size_t n_;
  std::int64_t L_;
  double eps_;
  std::vector<std::uint64_t> B_, NZ_;
  std::vector<double> PL_, LP_;
  std::vector<double> INV_[kTerms];
};

// Working memory of a search. An allocation failure becomes a qmath::error naming what was being allocated.
template <class T>
std::vector<T> entropy_alloc(std::size_t count, const char* what, T fill = T()) {
  try {
    return std::vector<T>(count, fill);
  } catch (const std::bad_alloc&) {
  } catch (const std::length_error&) {
  }
  fail("entropy_search", "cannot allocate ", what, ": ", count, " x ", sizeof(T), " bytes");
}
inline std::vector<std::uint64_t> entropy_copy(const std::uint64_t* counts, std::size_t n, const char* what) {
  std::vector<std::uint64_t> v = entropy_alloc<std::uint64_t>(n, what);
  std::copy(counts, counts + n, v.begin());
  return v;
}

// The TensorRT-mode divergence (the definition: entropy_divergence) of any candidate i in O(L), from prefix sums of
// the counts, of the non-empty count and of b log b:
//   T * KL = sum_{j<i} P log P - T log T + T log S_i - sum_levels M log(M / c) - O_i log(M_last / c_last).
// Level terms M log(M / c) are memoised per (first bin, width). A candidate's levels are floor(i / L) or
// ceil(i / L) bins wide, so two memo rows (one per width parity, each entry tagged with its width) serve every
// candidate in increasing order: memory is O(bins) (about 48 bytes per bin in all), never O(bins^2 / L).
// kPyTorchQuantization computes the same divergence (its bins[0] = bins[1] copy aside) and uses this search to find
// the few candidates near the minimum, which it then evaluates exactly as numpy does.
class KlPrefixSearch {
 public:
  KlPrefixSearch(const std::uint64_t* counts, std::size_t n, std::int64_t L)
      : c_(counts),
        n_(n),
        uL_(static_cast<std::uint64_t>(L)),
        lt_(log_table()),
        B_(entropy_alloc<std::uint64_t>(n + 1, "entropy prefix sums of counts")),
        NZ_(entropy_alloc<std::uint64_t>(n + 1, "entropy prefix sums of non-empty bins")),
        BL_(entropy_alloc<double>(n + 1, "entropy prefix sums of b log b")) {
    for (std::size_t k = 0; k < n; ++k) {
      B_[k + 1] = B_[k] + counts[k];
      NZ_[k + 1] = NZ_[k] + (counts[k] != 0);
    }
    if (B_[n] == 0) return;
    for (int r = 0; r < 2; ++r) {
      memo_[r] = entropy_alloc<double>(n + 1, "entropy level-term memo");
      tag_[r] = entropy_alloc<std::uint64_t>(n + 1, "entropy level-term memo tags", ~std::uint64_t(0));
    }
    for (std::size_t k = 0; k < n; ++k) BL_[k + 1] = BL_[k] + xlogx_fast(static_cast<double>(counts[k]));
    T_ = static_cast<double>(B_[n]);
    TlogT_ = xlogx_fast(T_);
    for (int k = 0; k < 63; ++k)
      if ((std::uint64_t(1) << k) == uL_) shift_ = k;
  }

  std::uint64_t total() const { return B_[n_]; }
  std::uint64_t kept(std::size_t i) const { return B_[i]; }  // S_i, the mass of bins [0, i)

  // KL of candidate i in [1, n] (+inf where some P > 0 has Q = 0 or S_i = 0); total() must be > 0. With `bound`,
  // also a bound on its distance from the exact value (and from any evaluation of the direct sum in double):
  // (n + L + 16) * 8 ulp of the sum of the magnitudes of the terms above, over T.
  double divergence(std::size_t i, double* bound = nullptr) {
    const double inf = std::numeric_limits<double>::infinity();
    const std::uint64_t S = B_[i];
    const std::uint64_t O = B_[n_] - S;
    const std::uint64_t blast = c_[i - 1];
    if (S == 0 || (blast == 0 && O != 0)) return inf;
    // Level l is [ceil(l i / L), ceil((l + 1) i / L)).
    std::size_t s0 = 0;
    double plogq = 0.0;
    if (shift_ >= 0) {
      const std::uint64_t ii = i;
      std::uint64_t num = ii + uL_ - 1;
      for (std::uint64_t l = 0; l + 1 < uL_; ++l, num += ii) {
        const std::size_t s1 = static_cast<std::size_t>(num >> shift_);
        plogq += level_term(s0, s1);
        s0 = s1;
      }
    } else {
      for (std::uint64_t l = 0; l + 1 < uL_; ++l) {
        const std::size_t s1 = static_cast<std::size_t>(((l + 1) * i + uL_ - 1) / uL_);
        plogq += level_term(s0, s1);
        s0 = s1;
      }
    }
    plogq += level_term(s0, i);  // the last level [s0, i)
    // Bin i - 1 lies in level l* = floor((i - 1) L / i) = [ceil(l* i / L), i) (the last levels are empty when
    // i < L); its log Q is term / M, M > 0 because b[i-1] > 0 whenever O > 0 here.
    double last_logq = 0.0;
    if (O != 0) {
      const std::uint64_t lstar = (static_cast<std::uint64_t>(i) - 1) * uL_ / i;
      const std::size_t first = static_cast<std::size_t>((lstar * i + uL_ - 1) / uL_);
      last_logq = level_term(first, i) / static_cast<double>(B_[i] - B_[first]);
    }
    const double plogp = BL_[i - 1] + xlogx_fast(static_cast<double>(blast + O));
    const double tlogs = T_ * fast_log(static_cast<double>(S), lt_);
    const double olog = static_cast<double>(O) * last_logq;
    const double tkl = plogp - TlogT_ + tlogs - plogq - olog;
    double kl = tkl / T_;
    if (kl < 0.0) kl = 0.0;  // rounding of an exact 0
    if (bound != nullptr)
      *bound = static_cast<double>(n_ + uL_ + 16) * 8.0 * std::numeric_limits<double>::epsilon() *
               (std::fabs(plogp) + std::fabs(TlogT_) + std::fabs(tlogs) + std::fabs(plogq) + std::fabs(olog)) / T_;
    return kl;
  }

 private:
  double xlogx_fast(double x) const { return x > 0.0 ? x * fast_log(x, lt_) : 0.0; }
  // M log(M / c) of the level [s0, s1) (M its mass, c its non-empty bins), fast_log throughout so that terms equal in
  // exact arithmetic cancel exactly.
  double level_term(std::size_t s0, std::size_t s1) {
    const std::uint64_t w = s1 - s0;
    const int r = static_cast<int>(w & 1);
    if (tag_[r][s0] != w) {
      tag_[r][s0] = w;
      const std::uint64_t M = B_[s1] - B_[s0];
      memo_[r][s0] = M == 0 ? 0.0
                            : static_cast<double>(M) * (fast_log(static_cast<double>(M), lt_) -
                                                        fast_log(static_cast<double>(NZ_[s1] - NZ_[s0]), lt_));
    }
    return memo_[r][s0];
  }

  const std::uint64_t* c_;
  std::size_t n_;
  std::uint64_t uL_;
  const LogTable& lt_;
  std::vector<std::uint64_t> B_, NZ_;
  std::vector<double> BL_;
  std::vector<double> memo_[2];
  std::vector<std::uint64_t> tag_[2];
  double T_ = 0.0, TlogT_ = 0.0;
  int shift_ = -1;  // L a power of two: ceil(l i / L) is a shift
};

// numpy_pairwise over a virtual array a[base, base + n) that is zero except at the sorted positions pos[0..m)
// (values val): blocks without a non-zero entry are skipped, leaves of <= 128 entries are summed densely, so the
// result equals numpy_pairwise of the dense array (up to the sign of a zero) in O(m log n + 128 * leaves).
inline double numpy_pairwise_sparse(const std::size_t* pos, const double* val, std::size_t m, std::size_t base,
                                    std::size_t n, std::vector<double>& scratch) {
  if (m == 0) return 0.0;
  if (n <= 128) {
    scratch.assign(n, 0.0);
    for (std::size_t k = 0; k < m; ++k) scratch[pos[k] - base] = val[k];
    return numpy_pairwise(scratch.data(), n);
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  const std::size_t split = static_cast<std::size_t>(std::lower_bound(pos, pos + m, base + n2) - pos);
  return numpy_pairwise_sparse(pos, val, split, base, n2, scratch) +
         numpy_pairwise_sparse(pos + split, val + split, m - split, base + n2, n - n2, scratch);
}

// pytorch_divergence of a finite candidate i (S_i > 0), evaluated over the non-empty bins only: `nz` lists the
// positions of the non-zero (already modified) bins, `kept` = S_i, `total` = T. Equal to pytorch_divergence
// (numpy's operations in numpy's order; zeros add nothing) in O(non-empty bins below i, log i).
struct PytorchScratch {
  std::vector<double> level_sum, q, terms, dense;
  std::vector<std::int64_t> level_cnt;
};
inline double pytorch_divergence_sparse(const std::uint64_t* bins, const std::vector<std::size_t>& nz, std::size_t i,
                                        std::int64_t L, std::uint64_t kept, std::uint64_t total, PytorchScratch& w) {
  const std::size_t m = static_cast<std::size_t>(std::lower_bound(nz.begin(), nz.end(), i) - nz.begin());
  w.level_sum.assign(static_cast<std::size_t>(L), 0.0);
  w.level_cnt.assign(static_cast<std::size_t>(L), 0);
  auto level = [&](std::size_t j) {
    return static_cast<std::size_t>(static_cast<std::int64_t>(j) * L / static_cast<std::int64_t>(i));
  };
  for (std::size_t k = 0; k < m; ++k) {
    w.level_sum[level(nz[k])] += static_cast<double>(bins[nz[k]]);
    ++w.level_cnt[level(nz[k])];
  }
  for (std::size_t l = 0; l < w.level_sum.size(); ++l)
    if (w.level_cnt[l] != 0) w.level_sum[l] = w.level_sum[l] / static_cast<double>(w.level_cnt[l]);
  w.q.resize(m);
  for (std::size_t k = 0; k < m; ++k) w.q[k] = w.level_sum[level(nz[k])];
  const double sq = 0.0 + numpy_pairwise_sparse(nz.data(), w.q.data(), m, 0, i, w.dense);
  const std::uint64_t outliers = total - kept;
  w.terms.resize(m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::uint64_t ref = bins[nz[k]] + (nz[k] + 1 == i ? outliers : 0);
    w.terms[k] = rel_entr(static_cast<double>(ref) / static_cast<double>(total), w.q[k] / sq);
  }
  return 0.0 + numpy_pairwise_sparse(nz.data(), w.terms.data(), m, 0, i, w.dense);
}

// The kPyTorchQuantization search, sub-quadratic: KlPrefixSearch gives every candidate's divergence within a
// bound in O(L); only candidates whose interval reaches the smallest upper bound can be the minimum of the exact
// values, and only those are evaluated exactly (pytorch_divergence_sparse). The chosen index is the one
// pytorch_search_reference (the direct O(bins^2) transcription) chooses. NaN candidates (S_i = 0: numpy divides
// 0 by 0) are the first ones, S_i growing with i; the last of them wins, as in numpy.
inline ThresholdSearch pytorch_search(const std::uint64_t* counts, std::size_t n, std::int64_t L, std::size_t start,
                                      std::size_t stride) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::uint64_t> bins = entropy_copy(counts, n, "the pytorch-quantization copy of the bins");
  if (n >= 2) bins[0] = bins[1];
  KlPrefixSearch search(bins.data(), n, L);
  std::size_t i = start;
  std::int64_t last_nan = -1;
  for (; i <= n && search.kept(i) == 0; i += stride) last_nan = static_cast<std::int64_t>(i);
  if (last_nan >= 0) return {0.0f, last_nan, std::numeric_limits<double>::quiet_NaN()};
  const std::size_t first = i;
  const std::size_t count = (n - first) / stride + 1;
  std::vector<double> kl = entropy_alloc<double>(count, "pytorch-quantization divergences");
  std::vector<double> bound = entropy_alloc<double>(count, "pytorch-quantization divergence bounds");
  double cut = inf;
  for (std::size_t k = 0; k < count; ++k) {
    kl[k] = search.divergence(first + k * stride, &bound[k]);
    if (kl[k] != inf && kl[k] + bound[k] < cut) cut = kl[k] + bound[k];
  }
  const std::size_t last = first + (count - 1) * stride;
  if (cut == inf) return {0.0f, static_cast<std::int64_t>(last), inf};  // all +inf: the last one
  std::vector<std::size_t> nz;
  for (std::size_t j = 0; j < n; ++j)
    if (bins[j] != 0) nz.push_back(j);
  PytorchScratch scratch;
  ThresholdSearch best{0.0f, -1, inf};
  for (std::size_t k = 0; k < count; ++k) {
    if (kl[k] == inf || kl[k] - bound[k] > cut) continue;
    const std::size_t c = first + k * stride;
    const double d = pytorch_divergence_sparse(bins.data(), nz, c, L, search.kept(c), search.total(), scratch);
    if (best.bin < 0 || d <= best.score) best = {0.0f, static_cast<std::int64_t>(c), d};  // the last minimum
  }
  return best;
}

// The direct transcription of pytorch-quantization's loop: pytorch_divergence for every candidate, O(bins^2).
// The definition pytorch_search is tested against.
inline ThresholdSearch pytorch_search_reference(const std::uint64_t* counts, std::size_t n, std::int64_t L,
                                                std::size_t start, std::size_t stride) {
  std::vector<std::int64_t> bins(n);
  for (std::size_t k = 0; k < n; ++k) bins[k] = static_cast<std::int64_t>(counts[k]);
  if (n >= 2) bins[0] = bins[1];
  std::vector<double> level_sum, q, terms;
  std::vector<std::int64_t> level_cnt;
  ThresholdSearch best{0.0f, -1, std::numeric_limits<double>::infinity()};
  bool best_nan = false;
  for (std::size_t i = start; i <= n; i += stride) {
    const double d = pytorch_divergence(bins, i, L, level_sum, level_cnt, q, terms);
    // np.argmin on the reversed list: the last minimum, a NaN being the minimum.
    if (std::isnan(d)) {
      best = {0.0f, static_cast<std::int64_t>(i), d};
      best_nan = true;
    } else if (!best_nan && (best.bin < 0 || d <= best.score)) {
      best = {0.0f, static_cast<std::int64_t>(i), d};
    }
  }
  return best;
}

}  // namespace detail

// The normative TensorRT-mode divergence of candidate i (L levels) on counts b[0..n), by the direct sum of the
// file comment. i in [1, n].
inline double entropy_divergence(const std::uint64_t* b, std::size_t n, std::size_t i, std::int64_t L) {
  detail::require(i >= 1 && i <= n, "entropy_divergence", "candidate ", i, " outside [1, ", n, "]");
  double total = 0.0, outliers = 0.0;
  for (std::size_t k = 0; k < n; ++k) total += static_cast<double>(b[k]);
  for (std::size_t k = i; k < n; ++k) outliers += static_cast<double>(b[k]);
  std::vector<double> mass(static_cast<std::size_t>(L), 0.0);
  std::vector<double> nonempty(static_cast<std::size_t>(L), 0.0);
  for (std::size_t j = 0; j < i; ++j) {
    const std::size_t l = static_cast<std::size_t>(static_cast<std::int64_t>(j) * L / static_cast<std::int64_t>(i));
    mass[l] += static_cast<double>(b[j]);
    nonempty[l] += b[j] != 0 ? 1.0 : 0.0;
  }
  const double s = total - outliers;  // sum of Q
  if (!(s > 0.0)) return std::numeric_limits<double>::infinity();
  double kl = 0.0;
  for (std::size_t j = 0; j < i; ++j) {
    const double P = static_cast<double>(b[j]) + (j + 1 == i ? outliers : 0.0);
    if (P == 0.0) continue;
    if (b[j] == 0) return std::numeric_limits<double>::infinity();
    const std::size_t l = static_cast<std::size_t>(static_cast<std::int64_t>(j) * L / static_cast<std::int64_t>(i));
    const double Q = mass[l] / nonempty[l];
    const double p = P / total, q = Q / s;
    kl += p * std::log(p / q);
  }
  return kl;
}

// The search on raw counts (absolute histogram for kTensorRT / kPyTorchQuantization, signed with zero bin
// `zero_bin` for kMxnet). A histogram without mass scores 0 in every mode (nothing diverges; the index is the one
// the mode's tie rule picks among equal candidates). Returns the winning candidate i and its divergence; amax is
// left 0: the threshold is
// (i + 0.5) * width (kTensorRT), edges[i] (kPyTorchQuantization), edges[zero_bin + i + 1] (kMxnet) -
// entropy_calibrate() applies it for a qmath Histogram. If no candidate exists (fewer bins than the first
// candidate) the result is i = n (kTensorRT, kPyTorchQuantization) or the widest slice (kMxnet), score 0.
inline ThresholdSearch entropy_search(const std::uint64_t* counts, std::size_t n, const EntropyOptions& opt = {},
                                      std::size_t zero_bin = 0) {
  const char* where = "entropy_search";
  detail::check_entropy_options(opt, where);
  detail::require(n >= 1, where, "empty histogram");
  const std::int64_t L = detail::entropy_levels(opt);
  const std::size_t start = static_cast<std::size_t>(detail::entropy_start(opt));
  const std::size_t stride = static_cast<std::size_t>(opt.stride);
  const double inf = std::numeric_limits<double>::infinity();
  const bool no_mass = std::all_of(counts, counts + n, [](std::uint64_t c) { return c == 0; });
  if (opt.mode == EntropyMode::kMxnet && opt.mxnet_float32)  // O(bins) per candidate: refuse what would take hours
    detail::require(n <= (std::size_t(1) << 17), where, "mxnet_float32 evaluates each candidate in O(bins): ", n,
                    " bins is over the limit of 131072 (use the default double evaluation)");

  if (opt.mode == EntropyMode::kMxnet) {
    detail::require(zero_bin < n, where, "zero bin ", zero_bin, " outside the histogram");
    const std::size_t last = zero_bin < n - 1 - zero_bin ? zero_bin : n - 1 - zero_bin;
    ThresholdSearch best{0.0f, static_cast<std::int64_t>(last), 0.0};
    if (start > last) return best;
    if (no_mass) return {0.0f, static_cast<std::int64_t>(start), 0.0};
    best.score = inf;
    bool found = false;
    if (opt.mxnet_float32) {
      // MXNet's selection: a strictly smaller float divergence than the best so far, starting from FLT_MAX (so
      // with every divergence infinite the first candidate stays).
      std::vector<float> head(n), p, q;
      float run = 0.0f;
      for (std::size_t k = 0; k < n; ++k) head[k] = run += static_cast<float>(counts[k]);
      float best_f = std::numeric_limits<float>::max();
      best = {0.0f, static_cast<std::int64_t>(start), inf};
      for (std::size_t i = start; i <= last; ++i) {
        const float d = detail::mxnet_divergence_f32(counts, head.data(), n, zero_bin, i, L,
                                                     static_cast<float>(opt.eps), p, q);
        if (d < best_f) {
          best_f = d;
          best = {0.0f, static_cast<std::int64_t>(i), static_cast<double>(d)};
        }
      }
      return best;
    }
    auto make_search = [&] {
      try {
        return detail::MxnetSearch(counts, n, L, opt.eps);
      } catch (const std::bad_alloc&) {
        detail::fail(where, "cannot allocate the kMxnet prefix sums for ", n, " bins (about ", 160.0 * double(n),
                     " bytes)");
      }
    };
    detail::MxnetSearch search = make_search();
    for (std::size_t i = start; i <= last; ++i) {
      const double d = search.divergence(zero_bin, i);
      if (!found || d < best.score) {
        best = {0.0f, static_cast<std::int64_t>(i), d};
        found = true;
      }
    }
    return best;
  }

  if (start > n) return {0.0f, static_cast<std::int64_t>(n), 0.0};
  if (no_mass) {  // the index each mode's search picks on all-equal divergences: TensorRT's first, pytorch's last
    const std::size_t last = start + (n - start) / stride * stride;
    return {0.0f, static_cast<std::int64_t>(opt.mode == EntropyMode::kTensorRT ? start : last), 0.0};
  }

  if (opt.mode == EntropyMode::kPyTorchQuantization) return detail::pytorch_search(counts, n, L, start, stride);

  std::vector<std::uint64_t> flattened;
  if (opt.flatten_first_bin && n >= 2) {
    flattened = detail::entropy_copy(counts, n, "kTensorRT flatten_first_bin copy");
    flattened[0] = flattened[1];
    counts = flattened.data();
  }
  // kTensorRT: prefix sums, O(L) per candidate (detail::KlPrefixSearch); the first minimum wins.
  detail::KlPrefixSearch search(counts, n, L);
  if (search.total() == 0) return {0.0f, static_cast<std::int64_t>(start), 0.0};
  ThresholdSearch best{0.0f, static_cast<std::int64_t>(start), inf};
  for (std::size_t i = start; i <= n; i += stride) {
    const double kl = search.divergence(i);
    if (kl < best.score) best = {0.0f, static_cast<std::int64_t>(i), kl};
  }
  return best;
}

// Entropy calibration of a qmath Histogram: the search plus the mode's threshold rule. Absolute histogram for
// kTensorRT / kPyTorchQuantization, signed for kMxnet. An empty histogram gives amax 0.
inline ThresholdSearch entropy_calibrate(const Histogram& h, const EntropyOptions& opt = {}) {
  const bool mx = opt.mode == EntropyMode::kMxnet;
  const std::string tensor = h.options().name.empty() ? std::string() : "tensor '" + h.options().name + "': ";
  detail::require(h.options().kind == (mx ? HistogramKind::kSigned : HistogramKind::kAbsolute), "entropy_calibrate",
                  tensor, mx ? "kMxnet needs a signed histogram" : "this mode needs an absolute histogram");
  if (h.total() == 0 || !h.has_range()) return {0.0f, 0, 0.0};
  const std::size_t z = static_cast<std::size_t>(h.range().zero_bin);
  ThresholdSearch r;
  try {
    r = entropy_search(h.counts().data(), h.counts().size(), opt, z);
  } catch (const error& e) {
    detail::fail("entropy_calibrate", tensor, e.what());
  }
  // Thresholds past FLT_MAX (data reaching it) are clamped to the data's largest |x| (Histogram::threshold).
  switch (opt.mode) {
    case EntropyMode::kTensorRT:
      r.amax = h.threshold((static_cast<double>(r.bin) + 0.5) * static_cast<double>(h.width()));
      break;
    case EntropyMode::kPyTorchQuantization:
      r.amax = h.threshold_edge(r.bin);
      break;
    case EntropyMode::kMxnet: {
      const double t = h.edge_double(static_cast<std::int64_t>(z) + r.bin + 1);
      r.amax = t > static_cast<double>(std::numeric_limits<float>::max()) ? h.amax() : static_cast<float>(t);
      break;
    }
  }
  return r;
}

inline float entropy_amax(const Histogram& h, const EntropyOptions& opt = {}) { return entropy_calibrate(h, opt).amax; }

// Streaming entropy calibrator. The default histogram suits kTensorRT / kPyTorchQuantization; kMxnet needs
// HistogramOptions with kind = kSigned (8001 bins, kFixed range from a first MinMax pass for MXNet's layout).
class EntropyCalibrator : public detail::HistogramCalibrator<EntropyOptions, entropy_amax> {
 public:
  explicit EntropyCalibrator(EntropyOptions options = {}, HistogramOptions hist = {})
      : HistogramCalibrator(options, std::move(hist)) {
    detail::check_entropy_options(this->options(), "EntropyCalibrator");
  }
};

}  // namespace qmath
