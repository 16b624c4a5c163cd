package advisory

import (
	"bytes"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func loadJSON(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(data))
}
