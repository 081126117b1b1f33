"""Reads a run folder's snapshots.pvd and every .vti it lists with the VTK library itself
(the `vtk` wheel), and prints what VTK saw as JSON: for each snapshot, the collection's
time, the file's TimeValue, the image's dimensions, spacing and origin, and every cell
array. Used by tests/vtk.rs; run as `python read_run.py RUN_FOLDER`."""

import json
import os
import sys

import vtk


def main(folder):
    pvd = os.path.join(folder, "snapshots.pvd")
    root = vtk.vtkXMLUtilities.ReadElementFromFile(pvd)
    if root is None or root.GetName() != "VTKFile" or root.GetAttribute("type") != "Collection":
        sys.exit(f"{pvd}: VTK does not read it as a collection")
    collection = root.FindNestedElementWithName("Collection")
    out = []
    for i in range(collection.GetNumberOfNestedElements()):
        ds = collection.GetNestedElement(i)
        path = os.path.join(folder, ds.GetAttribute("file"))
        reader = vtk.vtkXMLImageDataReader()
        reader.SetFileName(path)
        reader.Update()
        if reader.GetErrorCode() != 0:
            sys.exit(f"{path}: VTK could not read it (error {reader.GetErrorCode()})")
        image = reader.GetOutput()
        time = image.GetFieldData().GetArray("TimeValue")
        cells = image.GetCellData()
        arrays = {}
        for a in range(cells.GetNumberOfArrays()):
            arr = cells.GetArray(a)
            arrays[arr.GetName()] = [arr.GetValue(k) for k in range(arr.GetNumberOfTuples())]
        out.append(
            {
                "timestep": float(ds.GetAttribute("timestep")),
                "file": ds.GetAttribute("file"),
                "time_value": time.GetValue(0) if time is not None else None,
                "dimensions": list(image.GetDimensions()),
                "spacing": list(image.GetSpacing()),
                "origin": list(image.GetOrigin()),
                "arrays": arrays,
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
