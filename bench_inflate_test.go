package cookiesession

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchCart returns a cart of distinct items, like the "large" fixture's,
// serialized to about n bytes of JSON: session data that DEFLATE shrinks
// about 5 times.
func benchCart(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	adj := []string{"Everyday", "Compact", "Recycled", "Ultra", "Organic", "Classic", "Premium", "Travel"}
	noun := []string{"Phone Case", "Clock", "Hoodie", "Yoga Mat", "Scarf", "Notebook", "Plant Pot", "Mug", "Lamp"}
	cat := []string{"ELE", "APP", "KIT", "OUT", "HOM"}
	b := []byte{'['}
	for len(b) < n-80 {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"cents":%d,"name":"%s %s","qty":%d,"sku":"%s-%05d-%c"}`, r.IntN(30000),
			adj[r.IntN(len(adj))], noun[r.IntN(len(noun))], 1+r.IntN(5), cat[r.IntN(len(cat))], r.IntN(100000), 'A'+r.IntN(26))
	}
	return append(b, ']')
}

// BenchmarkSessionCost is the cost of a session to a request, by the size
// of its values once inflated (README, "Configuration"): "load" opens the
// cookie and decodes the payload, as a request that does not read the
// cart does; "read" also reads the cart, which inflates it. The cart is a
// json.RawMessage, so no struct decoding is counted. The manager allows
// 10 cookies of 4000 bytes, so that every size fits.
func BenchmarkSessionCost(b *testing.B) {
	for _, size := range []int{1 << 10, 4 << 10, 16 << 10, 32 << 10, 64 << 10} {
		e := stNew(b, Config{MaxChunks: 10, MaxSize: 40000})
		s := stLoad(b, e.m, "")
		if err := s.Set("cart", json.RawMessage(benchCart(size))); err != nil {
			b.Fatal(err)
		}
		s.Set("user", "ada")
		header := stHeader(b, stSave(b, e.m, s))
		for _, read := range []bool{false, true} {
			name := fmt.Sprintf("inflated=%dKiB/load", size>>10)
			if read {
				name = fmt.Sprintf("inflated=%dKiB/read", size>>10)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s, err := e.m.LoadHeader(context.Background(), header)
					if err != nil {
						b.Fatal(err)
					}
					if read {
						if _, ok, err := s.raw("cart"); !ok || err != nil {
							b.Fatal(ok, err)
						}
					}
				}
				b.ReportMetric(float64(len(header)), "cookie-bytes")
			})
		}
	}
}

// BenchmarkAttackCookie replays the attack cookie (a cart that
// inflates to 40 KB in a cookie of under 300 bytes) as a request that
// reads the cart: refused before any inflation.
func BenchmarkAttackCookie(b *testing.B) {
	e := hdNew(b, Config{})
	header, _ := attackCookie(b, e.m)
	b.ReportAllocs()
	for b.Loop() {
		s, _ := e.m.LoadHeader(context.Background(), header)
		s.raw("cart")
	}
	b.ReportMetric(float64(len(header)), "cookie-bytes")
}
