// qmath/cpu/detail/kernel_small_m_rows-inl.hpp - the loop of the x86 small-M kernels, written once.
//
// No include guard: cpu/detail/kernel_small_m.hpp includes this file once per target (AVX2, AVX-VNNI, AVX-512 VNNI),
// each time into its own namespace, with QMATH_SMALL_M_TARGET (that target's function attribute) defined. GCC does
// not inline an intrinsic (or a step) of a wider target into a narrower function, so the loop
// needs one copy per target; its steps and plans are defined once, in kernel_small_m.hpp.

// One k group g of R rows x C chunks (b: the group's first chunk) into the accumulators acc.
template <class Step, int R, int C>
QMATH_SMALL_M_TARGET inline void small_m_group(typename Step::V (&acc)[R][C], const typename Step::AE* a,
                                               std::int64_t lda, int g, const std::int8_t* b) {
  typename Step::V va[R];
  QMATH_UNROLL
  for (int r = 0; r < R; ++r) va[r] = Step::broadcast_a(a + r * lda + g * kKGroup);
  QMATH_UNROLL
  for (int c = 0; c < C; ++c) {
    const typename Step::V w = Step::load_b(b + Step::kChunkBytes * c);
    QMATH_UNROLL
    for (int r = 0; r < R; ++r) acc[r][c] = Step::accumulate(acc[r][c], va[r], w);
  }
}

// R rows x C chunks of the panel (from the column of b), accumulated over all kgroups in registers, in U independent
// accumulator sets: set u takes the groups g with g % U == u (the last kgroups % U groups go to set 0), and the sets
// are added (wrapping) before the store. Step supplies the A broadcast, the chunk load, the multiply-accumulate
// (accumulate) and the store of the tile.
template <class Step, int R, int C, int U>
QMATH_SMALL_M_TARGET inline void small_m_rows(int kgroups, const typename Step::AE* a, std::int64_t lda,
                                              const std::int8_t* b, std::int32_t* tile) {
  typename Step::V acc[U][R][C];
  QMATH_UNROLL
  for (int u = 0; u < U; ++u)
    QMATH_UNROLL
    for (int r = 0; r < R; ++r)
      QMATH_UNROLL
      for (int c = 0; c < C; ++c) acc[u][r][c] = Step::zero();
  int g = 0;
  for (; g + U <= kgroups; g += U) {
    // B is read once, from L3 or memory: fetch the lines of this column range kPrefetchBytes ahead.
    // (prefetch_l1 forms the address as an integer: it may lie past the end of B.)
    QMATH_UNROLL
    for (int u = 0; u < U; ++u)
      for (int line = 0; line < C * Step::kChunkBytes; line += 64)
        prefetch_l1(b, kPrefetchBytes + u * kNr * kKGroup + line);
    QMATH_UNROLL
    for (int u = 0; u < U; ++u) small_m_group<Step, R, C>(acc[u], a, lda, g + u, b + u * kNr * kKGroup);
    QMATH_UNROLL
    for (int u = 0; u < U; ++u)
      QMATH_UNROLL
      for (int r = 0; r < R; ++r)
        QMATH_UNROLL
        for (int c = 0; c < C; ++c) Step::keep_in_register(acc[u][r][c]);
    b += U * kNr * kKGroup;
  }
  if constexpr (U > 1) {
    for (; g < kgroups; ++g) {
      small_m_group<Step, R, C>(acc[0], a, lda, g, b);
      b += kNr * kKGroup;
    }
    QMATH_UNROLL
    for (int u = 1; u < U; ++u)
      QMATH_UNROLL
      for (int r = 0; r < R; ++r)
        QMATH_UNROLL
        for (int c = 0; c < C; ++c) acc[0][r][c] = Step::add(acc[0][r][c], acc[u][r][c]);
  }
  Step::template store<R, C>(acc[0], tile);
}

// The rows x 32 tile of a SmallMKernelFn / SmallMKernelU8Fn by Plan (kernel_small_m.hpp): passes of at most
// Plan::kMaxRows rows; a pass of R rows reads the panel as 32 / (C * Step::kChunkCols) column parts of C chunks each,
// with U accumulator sets, C = Plan::chunks(R), U = Plan::sets(R).
template <class Step, class Plan, int R>
QMATH_SMALL_M_TARGET inline void small_m_pass(int kgroups, const typename Step::AE* a, std::int64_t lda,
                                              const std::int8_t* b, std::int32_t* tile) {
  constexpr int C = Plan::chunks(R), U = Plan::sets(R), cols = C * Step::kChunkCols;
  static_assert(kNr % cols == 0, "a pass covers the panel in equal column parts");
  for (int h = 0; h < kNr / cols; ++h)
    small_m_rows<Step, R, C, U>(kgroups, a, lda, b + cols * kKGroup * h, tile + cols * h);
}

template <class Step, class Plan>
QMATH_SMALL_M_TARGET inline void small_m_run(int rows, int kgroups, const typename Step::AE* a, std::int64_t lda,
                                             const std::int8_t* b, std::int32_t* tile) {
  constexpr int kMax = Plan::kMaxRows;
  static_assert(kMax >= 1 && kMax <= 4, "a pass has 1 to 4 rows");
  for (int r0 = 0; r0 < rows; r0 += kMax) {
    const typename Step::AE* ar = a + r0 * lda;
    std::int32_t* t = tile + r0 * kNr;
    // The row count of this pass, min(rows - r0, kMax); the clamped template arguments only name reachable cases.
    switch (rows - r0 < kMax ? rows - r0 : kMax) {
      case 1: small_m_pass<Step, Plan, 1>(kgroups, ar, lda, b, t); break;
      case 2: small_m_pass<Step, Plan, (kMax < 2 ? kMax : 2)>(kgroups, ar, lda, b, t); break;
      case 3: small_m_pass<Step, Plan, (kMax < 3 ? kMax : 3)>(kgroups, ar, lda, b, t); break;
      default: small_m_pass<Step, Plan, kMax>(kgroups, ar, lda, b, t); break;
    }
  }
}
