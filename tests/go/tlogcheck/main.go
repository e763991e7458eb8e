// tlogcheck verifies audit-trail's Merkle proofs and signed checkpoints with Go's
// golang.org/x/mod/sumdb/tlog and sumdb/note, an implementation the project did not
// write. It reads JSON cases on stdin and prints one line per case: "accept NAME" or
// "reject NAME: reason". tests/integration/test_merkle_go.py runs it.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Name    string   `json:"name"`
	Index   int64    `json:"index"`
	Size    int64    `json:"size"`
	RowHash string   `json:"row_hash"` // base64 of the 32-byte chain hash (the leaf data)
	Proof   []string `json:"proof"`
	Root    string   `json:"root"`
}

type consistency struct {
	Name    string   `json:"name"`
	Old     int64    `json:"old"`
	New     int64    `json:"new"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

type signedNote struct {
	Name string `json:"name"`
	Note string `json:"note"`
	Key  string `json:"key"` // verifier key: name+keyid+base64
}

type cases struct {
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
	Notes       []signedNote  `json:"notes"`
}

func hash(text string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return h, err
	}
	if len(raw) != len(h) {
		return h, fmt.Errorf("hash of %d bytes", len(raw))
	}
	copy(h[:], raw)
	return h, nil
}

func hashes(texts []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(texts))
	for _, t := range texts {
		h, err := hash(t)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

func checkInclusion(c inclusion) error {
	data, err := base64.StdEncoding.DecodeString(c.RowHash)
	if err != nil {
		return err
	}
	proof, err := hashes(c.Proof)
	if err != nil {
		return err
	}
	root, err := hash(c.Root)
	if err != nil {
		return err
	}
	return tlog.CheckRecord(tlog.RecordProof(proof), c.Size, root, c.Index, tlog.RecordHash(data))
}

func checkConsistency(c consistency) error {
	proof, err := hashes(c.Proof)
	if err != nil {
		return err
	}
	oldRoot, err := hash(c.OldRoot)
	if err != nil {
		return err
	}
	newRoot, err := hash(c.NewRoot)
	if err != nil {
		return err
	}
	return tlog.CheckTree(tlog.TreeProof(proof), c.New, newRoot, c.Old, oldRoot)
}

func checkNote(c signedNote) error {
	v, err := note.NewVerifier(c.Key)
	if err != nil {
		return err
	}
	_, err = note.Open([]byte(c.Note), note.VerifierList(v))
	return err
}

func report(name string, err error) {
	if err != nil {
		fmt.Printf("reject %s: %v\n", name, err)
	} else {
		fmt.Printf("accept %s\n", name)
	}
}

func main() {
	var in cases
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "tlogcheck: bad input:", err)
		os.Exit(2)
	}
	for _, c := range in.Inclusion {
		report(c.Name, checkInclusion(c))
	}
	for _, c := range in.Consistency {
		report(c.Name, checkConsistency(c))
	}
	for _, c := range in.Notes {
		report(c.Name, checkNote(c))
	}
}
