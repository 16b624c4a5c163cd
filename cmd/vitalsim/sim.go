package main

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Vitals are one reading of the simulated patient. Every reading says it
// is simulated: this is demo data, not a patient's.
type Vitals struct {
	Simulated bool      `json:"simulated"`
	Time      time.Time `json:"time"`
	HR        int       `json:"hr"`   // heart rate, beats/min
	SpO2      int       `json:"spo2"` // oxygen saturation, %
	Sys       int       `json:"sys"`  // systolic blood pressure, mmHg
	Dia       int       `json:"dia"`  // diastolic blood pressure, mmHg
	MAP       int       `json:"map"`  // mean arterial pressure, mmHg
	RR        int       `json:"rr"`   // respiration rate, breaths/min
	Temp      float64   `json:"temp"` // body temperature, °C
}

// patient is a simulated adult at rest: each value wanders around its
// baseline (an Ornstein–Uhlenbeck walk), so that the numbers move like a
// real monitor's without leaving plausible ranges.
type patient struct {
	mu                        sync.Mutex // guards the fields below
	rng                       *rand.Rand
	hr, spo2, sys, dia, rr, t float64
}

func newPatient(seed uint64) *patient {
	return &patient{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		hr: 72, spo2: 98, sys: 120, dia: 78, rr: 14, t: 36.8}
}

// walk moves v toward mean by rate and adds noise, clamped to [lo, hi].
func (p *patient) walk(v, mean, rate, noise, lo, hi float64) float64 {
	v += (mean-v)*rate + p.rng.NormFloat64()*noise
	return math.Max(lo, math.Min(hi, v))
}

// step advances the patient by one reading.
func (p *patient) step(now time.Time) Vitals {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hr = p.walk(p.hr, 72, 0.1, 0.8, 55, 110)
	p.spo2 = p.walk(p.spo2, 97.5, 0.2, 0.3, 93, 100)
	p.sys = p.walk(p.sys, 120, 0.1, 1.0, 100, 145)
	p.dia = p.walk(p.dia, 78, 0.1, 0.7, 60, 92)
	p.rr = p.walk(p.rr, 14, 0.1, 0.3, 10, 22)
	p.t = p.walk(p.t, 36.8, 0.05, 0.02, 36.2, 37.6)
	sys, dia := int(math.Round(p.sys)), int(math.Round(p.dia))
	if dia >= sys-20 {
		dia = sys - 20
	}
	return Vitals{Simulated: true, Time: now.UTC(), HR: int(math.Round(p.hr)), SpO2: int(math.Round(p.spo2)),
		Sys: sys, Dia: dia, MAP: (sys + 2*dia) / 3, RR: int(math.Round(p.rr)), Temp: math.Round(p.t*10) / 10}
}
