package world_test

import (
	"context"
	"fmt"
	"log"

	"crawl/internal/world"
)

// Start a world, then point discovery at w.Nameserver() (port w.DNSPort())
// and the crawler at w.ConnectTo(); w.Sites() says what they should find.
func Example() {
	w, err := world.Start(context.Background(), world.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	for _, z := range w.Zones() {
		if z.Transfer {
			fmt.Println(z.Name, "allows AXFR")
		}
	}
	pages := 0
	for _, s := range w.Sites() {
		pages += len(s.Pages)
	}
	fmt.Println(len(w.Zones()), "zones,", len(w.Sites()), "sites,", pages, "pages")
	// Output:
	// com.test. allows AXFR
	// edu.test. allows AXFR
	// gov.test. allows AXFR
	// net.test. allows AXFR
	// org.test. allows AXFR
	// rep.test. allows AXFR
	// test. allows AXFR
	// 35 zones, 27 sites, 500 pages
}
