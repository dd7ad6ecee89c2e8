package registration

import "time"

// exchangeLifetime is RFC 7252's EXCHANGE_LIFETIME (247 s): the longest a CON request and its
// answer can take with the default transmission parameters, retransmissions included.
const exchangeLifetime = 247 * time.Second

// updateDelay is how long after the server confirmed a registration of lifetime lt the next
// Update goes out. An Update sent EXCHANGE_LIFETIME before the end still arrives in time
// however often it is retransmitted, so long lifetimes update then: a Leshan default of
// 86400 s costs one Update a day. Short lifetimes update at half: at lt−247 s for lt ≤ 494 s
// the Update would come sooner than lt/2 or not at all; halfway leaves a lost Update, or two,
// time to be retried (Wakaama and Anjay do about the same). The two rules meet at 494 s.
func updateDelay(lt time.Duration) time.Duration {
	if lt > 2*exchangeLifetime {
		return lt - exchangeLifetime
	}
	return lt / 2
}

// backoff is the wait after the nth failed Register in a row (n from 0): shortest doubling
// up to longest, times 0.5 to 1.5 as jitter goes from 0 to 1.
func backoff(n int, shortest, longest time.Duration, jitter float64) time.Duration {
	d := shortest
	for range n {
		if d >= longest/2 {
			d = longest
			break
		}
		d *= 2
	}
	return time.Duration(float64(d) * (0.5 + jitter))
}
